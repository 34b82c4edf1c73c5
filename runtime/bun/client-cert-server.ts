// An HTTPS listener that asks every client for a certificate but also serves those without one (the CA: joining
// members have none yet, renewing members prove themselves with theirs). The handler gets the verdict per connection.
import type { SocketHandler, TLSOptions } from "bun";
import { assertStrictTlsEnvironment } from "../strict-env.ts";
import { createConnectionSet } from "./connection-set.ts";
import { startConnection, tlsSocketEvents, upgradingAccept, type TlsSocketData } from "./tls-accept.ts";
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

// rejectUnauthorized is off so members without a certificate (joining) get in; the handshake handler records the verdict.
const tlsOptions = (t: { cert: string; key: string; ca: string }): TLSOptions => ({ cert: t.cert, key: t.key, ca: t.ca, requestCert: true, rejectUnauthorized: false });

export function startClientCertServer(opts: ClientCertServerOptions): ClientCertServer {
  // The variable is reported to switch certificate checks off (Bun #35240): `authorized` could not be trusted.
  assertStrictTlsEnvironment();
  const set = createConnectionSet(opts.limits);
  const handshakes = createHandshakeDeadline(opts.limits.headerTimeoutMs, (s) => s.terminate());
  const handlers: SocketHandler<TlsSocketData> = {
    ...tlsSocketEvents({ set, handshakes, maxEarlyBytes: opts.limits.maxHeaderBytes, tooEarly: (s) => s.terminate() }),
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
      startConnection(s, set, (req, target) => opts.handler(req, client, target));
    },
  };
  // New TLS settings (a root rotation) apply to each socket accepted after them.
  let tls = tlsOptions(opts.tls);
  const accept = upgradingAccept({ set, handshakes, tls: () => tls, socket: handlers });
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
