// The inbound mTLS listener: each accepted socket is upgraded to TLS with the credentials current at that moment (client
// certificate required), the caller's SPIFFE id read once from it, then HTTP/1.1. Permissive mode adds a plaintext front.

import type { Socket, SocketHandler, TCPSocketListener, TCPSocketListenOptions, TLSOptions } from "bun";
import { assertStrictTlsEnvironment } from "../strict-env.ts";
import { isValidTrustDomain } from "../../shared/pki/spiffe.ts";
import { createConnectionSet } from "./connection-set.ts";
import { startConnection, tlsSocketEvents, upgradingAccept, type TlsSocketData } from "./tls-accept.ts";
import { verifyPeer } from "./peer-identity.ts";
import { createHandshakeDeadline } from "./handshake-deadline.ts";
import { sameMaterial } from "./tls-material.ts";
import { relayStarter } from "./inbound-relay.ts";
import { startPermissiveFront, type PermissiveFront } from "./permissive-front.ts";
import { createL4Inbound } from "./tcp-inbound.ts";
import { L4_EARLY_BYTES } from "./tcp-pipe.ts";
import type { InboundMode, MtlsServer, MtlsServerOptions, RefusalReason, TlsMaterial } from "../ports.ts";

/** Where the TLS listener goes while a permissive front holds the port: reached only through the front's relay. */
const LOOPBACK = "127.0.0.1";

const tlsOptions = (c: TlsMaterial): TLSOptions => ({ key: c.keyPem, cert: c.certChainPem, ca: c.trustBundlePem, requestCert: true, rejectUnauthorized: true });

export async function startMtlsServer(opts: MtlsServerOptions): Promise<MtlsServer> {
  assertStrictTlsEnvironment();
  if (!isValidTrustDomain(opts.trustDomain)) throw new Error(`invalid trust domain: ${JSON.stringify(opts.trustDomain)}`);
  const creds = opts.credentials();
  const set = createConnectionSet(opts.limits);
  const handshakes = createHandshakeDeadline(opts.limits.headerTimeoutMs, (s) => {
    opts.onRefused?.("TLS handshake not finished within the header timeout", "timeout");
    s.terminate();
  });
  let accepted = 0;
  const l4 = opts.l4 === undefined ? undefined : createL4Inbound(opts.l4);
  const refuse = (s: Socket<TlsSocketData>, reason: string, code: RefusalReason): void => {
    opts.onRefused?.(reason, code);
    s.terminate();
  };

  // The TLS settings for the next connection. Compared by content, since a provider may hand out a fresh object each
  // call; equal strings usually share storage, so this is cheap.
  let tls = { creds, options: tlsOptions(creds) };
  const currentTls = (): TLSOptions => {
    const now = opts.credentials();
    if (!sameMaterial(now, tls.creds)) tls = { creds: now, options: tlsOptions(now) };
    else tls.creds = now;
    return tls.options;
  };

  const handlers: SocketHandler<TlsSocketData> = {
    ...tlsSocketEvents({ set, handshakes, maxEarlyBytes: l4 === undefined ? opts.limits.maxHeaderBytes : Math.max(opts.limits.maxHeaderBytes, L4_EARLY_BYTES), tooEarly: (s) => refuse(s, "too much data before the handshake completed", "early-data") }),
    handshake(s, success, authError) {
      handshakes.done(s);
      if (!success || authError || !s.authorized) return refuse(s, `handshake refused: ${authError?.message ?? "peer not authorized"}`, "handshake");
      // Before any byte is parsed: the leaf must meet the X509-SVID rules, not just chain to our bundle.
      const verdict = verifyPeer(s.getPeerX509Certificate()?.raw, opts.trustDomain, "client");
      if (!verdict.ok) return refuse(s, `peer certificate refused: ${verdict.reason}`, "svid");
      const id = verdict.spiffeId;
      if (set.draining()) return refuse(s, "listener draining", "draining");
      s.setNoDelay(true);
      const peer = { spiffeId: id };
      accepted++;
      if (l4?.accept(s, peer)) return; // carried (or refused) at L4: never parsed as HTTP
      startConnection(s, set, (req, target) => opts.handler(req, peer, target), opts.relay === undefined ? undefined : relayStarter(opts.relay, id));
    },
  };

  // Rotated credentials apply to the next accepted socket; the listening socket never changes.
  const accept = upgradingAccept({ set, handshakes, tls: currentTls, socket: handlers });

  // reusePort (SO_REUSEPORT; works in Bun 1.4.4 though only typed for connect) lets the listener of another mode
  // bind the same port before the old one stops accepting.
  const listen = (hostname: string, port: number): TCPSocketListener<undefined> => {
    // Half-open for L4 connections, whose FIN must travel on its own (tls-accept.ts closes HTTP/1.1 at a FIN as before).
    const options: TCPSocketListenOptions<undefined> & { reusePort: boolean } = { hostname, port, reusePort: true, allowHalfOpen: l4 !== undefined, data: undefined, socket: accept };
    return Bun.listen<undefined>(options);
  };

  // Strict: the TLS listener holds the port. Permissive: a front holds it and relays TLS to the listener on loopback.
  let mode: InboundMode = opts.mode ?? "strict";
  let front: PermissiveFront | undefined;
  let retired: PermissiveFront[] = [];
  const startFront = (publicPort: number, tlsListener: TCPSocketListener<undefined>): PermissiveFront => {
    try {
      if (opts.plaintextHandler === undefined) throw new Error("permissive mode needs a plaintextHandler");
      return startPermissiveFront({ hostname: opts.hostname, port: publicPort, tlsPort: tlsListener.port, set, handler: opts.plaintextHandler, onRefused: opts.onRefused });
    } catch (e) {
      tlsListener.stop(true);
      throw e;
    }
  };
  const first = mode === "strict" ? listen(opts.hostname, opts.port) : listen(LOOPBACK, 0);
  if (mode === "permissive") front = startFront(opts.port, first);
  const port = front?.port ?? first.port;
  const active = { listener: first };

  /** Puts `fresh` in the place of the TLS listener; the old one stops accepting, its connections run on. */
  const replace = (fresh: TCPSocketListener<undefined>): void => {
    const old = active.listener;
    active.listener = fresh;
    old.stop(false);
  };
  const setMode = (next: InboundMode): void => {
    if (next === mode || set.draining()) return;
    // Either way the new listener binds the port (reusePort) before the old one lets go: no gap in between.
    if (next === "permissive") {
      const inner = listen(LOOPBACK, 0);
      front = startFront(port, inner);
      replace(inner);
    } else {
      replace(listen(opts.hostname, port));
      front!.retire();
      retired = [...retired.filter((f) => f.connections() > 0), front!];
      front = undefined;
    }
    mode = next;
  };

  return {
    port,
    inFlight: () => set.inFlight(),
    connectionsAccepted: () => accepted,
    mode: () => mode,
    setMode,
    async close({ drainMs }) {
      if (set.draining()) return;
      active.listener.stop(false);
      front?.retire();
      await Promise.all([set.drain(drainMs), l4?.drain(drainMs)]);
      active.listener.stop(true);
      handshakes.stop();
      for (const f of [front, ...retired]) f?.destroy();
    },
  };
}
