// The CA as a network service: the member API over HTTPS with a server certificate from its own chain (client
// certificates asked for, used by renewals), and the token admin API on 127.0.0.1 only.
import { isIP } from "node:net";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { caServiceId } from "../shared/pki/ca-client.ts";
import { DAY } from "../shared/pki/ca-chain.ts";
import type { TokenStore } from "../shared/pki/join-tokens.ts";
import { startClientCertServer } from "../runtime/bun/client-cert-server.ts";
import { bunRuntime } from "../runtime/bun/ports.ts";
import { createCaApi } from "./api.ts";
import { createAdminApi } from "./admin-api.ts";
import { MAX_BODY_BYTES, type CaLog } from "./http.ts";
import type { CaTrust } from "./trust.ts";

x509.cryptoProvider.set(crypto);

export type CaServiceOptions = {
  trust: CaTrust;
  tokens: TokenStore;
  adminSecret: string;
  address: string;
  port: number;
  adminPort: number;
  /** Extra DNS names or IPs for the server certificate (members don't need them; curl and openssl do). */
  sans: readonly string[];
  log: CaLog;
};

export type CaService = { port: number; adminPort: number; serverNotAfter: Date; stop(): Promise<void> };

/**
 * The listener's certificate: a key made in memory at every start (never written anywhere) and a serverAuth leaf
 * naming the CA service (caServiceId), valid as long as the intermediate; a restart issues a new one.
 */
async function serverCertificate(o: CaServiceOptions): Promise<{ cert: string; key: string; notAfter: Date }> {
  const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const names = [...o.sans, ...(o.address === "0.0.0.0" || o.address === "::" ? [] : [o.address])];
  const ips = [...new Set(names.filter((n) => isIP(n) !== 0))];
  const dnsNames = [...new Set(names.filter((n) => isIP(n) === 0))];
  const ca = o.trust.signer();
  const signed = await ca.issueServerCertificate({ publicKey: keys.publicKey, uri: caServiceId(ca.trustDomain), dnsNames, ips, ttlMs: 3650 * DAY });
  const key = `${x509.PemConverter.encode(await crypto.subtle.exportKey("pkcs8", keys.privateKey), "PRIVATE KEY")}\n`;
  return { cert: signed.certChainPem, key, notAfter: signed.notAfter };
}

export async function startCaService(o: CaServiceOptions): Promise<CaService> {
  let tls = await serverCertificate(o);
  let certSigner = o.trust.signer();
  const api = createCaApi({ trust: o.trust, tokens: o.tokens, log: o.log });
  const server = startClientCertServer({
    hostname: o.address,
    port: o.port,
    tls: { cert: tls.cert, key: tls.key, ca: o.trust.bundlePem() },
    trustDomain: o.trust.trustDomain,
    limits: { maxHeaderBytes: 16 * 1024, headerTimeoutMs: 10_000, idleTimeoutMs: 30_000, maxBodyBytes: MAX_BODY_BYTES, bodyIdleTimeoutMs: 10_000, bodyTimeoutMs: 30_000 },
    handler: (req, client) => api(req, client),
  });
  // A rotation changes the client roots (renewals from leaves of either root verify) and, at the switch, the signer:
  // the listener's own certificate then comes from the new chain, which every member already trusts.
  let reloading = Promise.resolve();
  o.trust.onChange(() => {
    reloading = reloading.then(async () => {
      if (o.trust.signer() !== certSigner) {
        certSigner = o.trust.signer();
        tls = await serverCertificate(o);
      }
      server.setTls({ cert: tls.cert, key: tls.key, ca: o.trust.bundlePem() });
    }).catch((err) => o.log("error", "could not reload the CA listener's certificate after a trust change", { err: String(err) }));
  });
  const adminApi = createAdminApi({ trust: o.trust, tokens: o.tokens, adminSecret: o.adminSecret, log: o.log });
  let admin: { port: number; stop(): void };
  try {
    // Loopback only, whatever --address says: tokens are minted on the CA host, never over the network.
    admin = bunRuntime.serveWeb({ hostname: "127.0.0.1", port: o.adminPort, fetch: (req) => adminApi(req) });
  } catch (err) {
    await server.close({ drainMs: 0 });
    throw err;
  }
  return {
    port: server.port,
    adminPort: admin.port,
    serverNotAfter: tls.notAfter,
    async stop() {
      admin.stop();
      await server.close({ drainMs: 2000 });
    },
  };
}
