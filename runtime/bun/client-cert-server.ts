// An HTTPS listener that asks every client for a certificate but also serves those without one (the CA: joining
// members have none yet, renewing members prove themselves with theirs). The handler gets the verdict per connection.
import type { Socket, SocketHandler, TLSOptions } from "bun";
import { assertStrictTlsEnvironment } from "../strict-env.ts";
import { Http1Connection } from "./http1-connection.ts";
import { connectionEvents, createConnectionSet } from "./connection-set.ts";
import { verifyPeer } from "./peer-identity.ts";
import { createHandshakeDeadline } from "./handshake-deadline.ts";
import type { InboundLimits } from "../ports.ts";

/** ok: the client's leaf chains to `ca` and meets the X509-SVID rules; otherwise why not (no certificate at all, too). */
export type ClientCertificate = { ok: true; spiffeId: string } | { ok: false; reason: string };

export type ClientCertServerOptions = {
  hostname: string;
  port: number;
  /** Server chain and key (PEM), and the roots client certificates must chain to. */
  tls: { cert: string; key: string; ca: string };
  trustDomain: string;
  limits: InboundLimits;
  handler: (req: Request, client: ClientCertificate, target: string) => Promise<Response>;
};

export type ClientCertServer = {
  readonly port: number;
  /** New certificate or client roots for later connections (the CA after a root rotation); open ones keep theirs. */
  setTls(tls: { cert: string; key: string; ca: string }): void;
  close(opts: { drainMs: number }): Promise<void>;
};

type SocketData = { conn: Http1Connection | undefined; early: Buffer[] | undefined };

// rejectUnauthorized is off so members without a certificate (joining) get in; the handshake handler records the verdict.
const tlsOptions = (t: { cert: string; key: string; ca: string }): TLSOptions => ({ cert: t.cert, key: t.key, ca: t.ca, requestCert: true, rejectUnauthorized: false });

export function startClientCertServer(opts: ClientCertServerOptions): ClientCertServer {
  // The variable is reported to switch certificate checks off (Bun #35240): `authorized` could not be trusted.
  assertStrictTlsEnvironment();
  const set = createConnectionSet(opts.limits);
  const events = connectionEvents<SocketData>(set);
  const handshakes = createHandshakeDeadline(opts.limits.headerTimeoutMs, (s) => s.terminate());
  const handlers: SocketHandler<SocketData> = {
    binaryType: "buffer",
    open(s) {
      s.data ??= { conn: undefined, early: undefined };
    },
    handshake(s, success, authError) {
      handshakes.done(s);
      if (!success || set.draining()) return void s.terminate();
      const der = s.getPeerX509Certificate()?.raw;
      // rejectUnauthorized is off so clients without a certificate get in; `authorized` says whether one verified.
      const client: ClientCertificate = der === undefined
        ? { ok: false, reason: "no client certificate" }
        : !s.authorized
          ? { ok: false, reason: `client certificate not trusted: ${authError?.message ?? "chain did not verify"}` }
          : verifyPeer(der, opts.trustDomain, "client");
      const conn = new Http1Connection(s as Socket<unknown>, (req, target) => opts.handler(req, client, target), set.host);
      s.data.conn = conn;
      set.add(conn);
      const early = s.data.early;
      s.data.early = undefined;
      if (early) for (const b of early) conn.onData(b);
    },
    data(s, d) {
      const c = s.data.conn;
      if (c) return c.onData(d as Buffer);
      // Bytes that arrive before the handshake callback wait for it (bounded), as on the inbound listener.
      const early = (s.data.early ??= []);
      early.push(Buffer.from(d as Buffer));
      if (early.reduce((n, b) => n + b.length, 0) > opts.limits.maxHeaderBytes) s.terminate();
    },
    ...events,
    close(s) {
      handshakes.done(s); // a socket that closed mid-handshake
      events.close(s);
    },
  };
  // Each accepted socket is upgraded with the TLS settings of that moment, so new settings (after a root rotation)
  // never mean a new listening socket: closing one drops the connections still in its accept queue.
  let tls = tlsOptions(opts.tls);
  const accept: SocketHandler<undefined> = {
    open(raw) {
      if (set.draining()) return void raw.terminate();
      const [, s] = raw.upgradeTLS<SocketData>({ data: { conn: undefined, early: undefined }, tls, socket: handlers });
      // A handshake gets the header timeout; the parser's own timers start after it.
      handshakes.add(s);
    },
    data() {},
    close() {},
  };
  const listener = Bun.listen<undefined>({ hostname: opts.hostname, port: opts.port, data: undefined, socket: accept });
  return {
    port: listener.port,
    setTls(next) {
      tls = tlsOptions(next);
    },
    async close({ drainMs }) {
      if (set.draining()) return;
      listener.stop(false);
      await set.drain(drainMs);
      listener.stop(true);
      handshakes.stop();
    },
  };
}
