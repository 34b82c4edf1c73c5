// The inbound mTLS listener: Bun.listen with TLS, client certificates required and verified against the trust bundle.
// The caller's SPIFFE id is read once per connection from the verified peer certificate, then HTTP/1.1 runs on it.

import type { Socket, SocketHandler, TCPSocketListener, TCPSocketListenOptions } from "bun";
import { assertStrictTlsEnvironment } from "../strict-env.ts";
import { isValidTrustDomain } from "../../shared/pki/spiffe.ts";
import { Http1Connection } from "./http1-connection.ts";
import { connectionEvents, createConnectionSet } from "./connection-set.ts";
import { verifyPeer } from "./peer-identity.ts";
import { sameMaterial } from "./tls-material.ts";
import type { MtlsServer, MtlsServerOptions, TlsMaterial } from "../ports.ts";

// `early` holds bytes that arrive before the handshake callback: under load Bun can deliver the client's
// first request (sent right behind its TLS 1.3 Finished) before it reports the handshake.
type SocketData = { conn: Http1Connection | undefined; early: Buffer[] | undefined };


export async function startMtlsServer(opts: MtlsServerOptions): Promise<MtlsServer> {
  assertStrictTlsEnvironment();
  if (!isValidTrustDomain(opts.trustDomain)) throw new Error(`invalid trust domain: ${JSON.stringify(opts.trustDomain)}`);
  const creds = opts.credentials();
  const set = createConnectionSet(opts.limits);
  let accepted = 0;
  const refuse = (s: Socket<SocketData>, reason: string): void => {
    opts.onRefused?.(reason);
    s.terminate();
  };

  const handlers: SocketHandler<SocketData> = {
    binaryType: "buffer",
    open(s) {
      s.data = { conn: undefined, early: undefined };
      if (set.draining()) return s.terminate();
      // Changed credentials (rotation) swap the listener for later connections. Compared by content, since a
      // provider may hand out a fresh object each call; equal strings usually share storage, so this is cheap.
      const now = opts.credentials();
      if (!sameMaterial(now, active.creds)) rotate(now);
      else active.creds = now;
    },
    handshake(s, success, authError) {
      if (!success || authError || !s.authorized) return refuse(s, `handshake refused: ${authError?.message ?? "peer not authorized"}`);
      // Before any byte is parsed: the leaf must meet the X509-SVID rules, not just chain to our bundle.
      const verdict = verifyPeer(s.getPeerX509Certificate()?.raw, opts.trustDomain, "client");
      if (!verdict.ok) return refuse(s, `peer certificate refused: ${verdict.reason}`);
      const id = verdict.spiffeId;
      if (set.draining()) return refuse(s, "listener draining");
      s.setNoDelay(true);
      const peer = { spiffeId: id };
      const conn = new Http1Connection(s as Socket<unknown>, (req, target) => opts.handler(req, peer, target), set.host);
      s.data.conn = conn;
      set.add(conn);
      accepted++;
      const early = s.data.early;
      s.data.early = undefined;
      if (early) for (const b of early) conn.onData(b);
    },
    data(s, d) {
      const c = s.data.conn;
      if (c) return c.onData(d as Buffer);
      // Not verified yet: hold the bytes (bounded), never parse them before the identity is known.
      const early = (s.data.early ??= []);
      early.push(Buffer.from(d as Buffer));
      if (early.reduce((n, b) => n + b.length, 0) > opts.limits.maxHeaderBytes) refuse(s, "too much data before the handshake completed");
    },
    ...connectionEvents<SocketData>(set),
  };

  // reusePort (SO_REUSEPORT; works in Bun 1.4.4 though only typed for connect) lets a listener with rotated
  // credentials bind the same port before the old one stops accepting.
  const listen = (creds: TlsMaterial, port: number): TCPSocketListener<SocketData> => {
    const options: TCPSocketListenOptions<SocketData> & { reusePort: boolean } = {
      hostname: opts.hostname,
      port,
      reusePort: true,
      data: { conn: undefined, early: undefined },
      tls: { key: creds.keyPem, cert: creds.certChainPem, ca: creds.trustBundlePem, requestCert: true, rejectUnauthorized: true },
      socket: handlers,
    };
    return Bun.listen<SocketData>(options);
  };

  const first = listen(creds, opts.port);
  const port = first.port;
  const active = { listener: first, creds };
  const rotate = (next: TlsMaterial): void => {
    let fresh: TCPSocketListener<SocketData>;
    try {
      fresh = listen(next, port);
    } catch (e) {
      opts.onRefused?.(`credential rotation failed, keeping the old certificate: ${String(e)}`);
      active.creds = next; // do not retry on every connection
      return;
    }
    const old = active.listener;
    active.listener = fresh;
    active.creds = next;
    // Connections already accepted keep running on the old certificate until they close.
    old.stop(false);
  };

  return {
    port,
    inFlight: () => set.inFlight(),
    connectionsAccepted: () => accepted,
    async close({ drainMs }) {
      if (set.draining()) return;
      active.listener.stop(false);
      await set.drain(drainMs);
      active.listener.stop(true);
    },
  };
}
