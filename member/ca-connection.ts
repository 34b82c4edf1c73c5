// Reaching the CA safely: the first look is unverified and only fetches the trust bundle, which must hold the root
// pinned with --ca-fingerprint; every later call (join, renew) verifies the CA's chain against that root and its id.
import type { CaFetch, CaTls } from "../runtime/ports.ts";
import { caServiceId, createCaClient, type CaClient } from "../shared/pki/ca-client.ts";
import { bundleFingerprints } from "../shared/pki/fingerprint.ts";
import { findPinnedRoot } from "../shared/pki/bundle.ts";

const TIMEOUT_MS = 10_000;

/** A refusal to trust the CA: wrong fingerprint or no fingerprint. Never retried (it is a configuration matter). */
export class CaPinError extends Error {
  override readonly name = "CaPinError";
  readonly code = "ca-fingerprint-mismatch";
}

export type CaConnection = {
  /** A client that trusts only `rootsPem` and presents `client` (the current leaf) when given. */
  client(rootsPem: string, clientCert?: { keyPem: string; certChainPem: string }): CaClient;
  /** The CA's trust bundle, checked to hold the pinned root, fetched over a connection verified against that root. */
  pinnedTrustBundle(): Promise<string>;
  /** True when `bundlePem` holds the pinned root (stored state, answers from the CA). */
  holdsPinnedRoot(bundlePem: string): Promise<boolean>;
};

export function connectCa(o: { caFetch: CaFetch; url: string; fingerprint: string; trustDomain: string }): CaConnection {
  const serverId = caServiceId(o.trustDomain);
  const via = (tls: CaTls): CaClient => createCaClient(o.url, (r) => o.caFetch(`${o.url.replace(/\/+$/, "")}${r.path}`, { method: r.method, ...(r.body === undefined ? {} : { body: r.body }), tls, timeoutMs: r.timeoutMs ?? TIMEOUT_MS }));
  const client = (rootsPem: string, clientCert?: { keyPem: string; certChainPem: string }) =>
    via({ verify: "pinned", rootsPem, serverId, ...(clientCert === undefined ? {} : { client: clientCert }) });
  return {
    client,
    async pinnedTrustBundle() {
      // Unverified on purpose, and nothing secret goes over it: only the bundle comes back, and only the pinned root in
      // it is used, as the one anchor for the verified calls that follow.
      const first = await via({ verify: "none" }).trustBundle();
      const anchor = await findPinnedRoot(first.trustBundlePem, o.fingerprint);
      if (anchor === undefined) {
        const served = (await bundleFingerprints(first.trustBundlePem)).join(", ") || "no certificates";
        throw new CaPinError(`the CA at ${o.url} serves root ${served}, not the pinned ${o.fingerprint}: refusing to join (a different CA, or something in between); check --ca-fingerprint against \`ca fingerprint --state DIR\` on the CA host`);
      }
      const verified = await client(anchor).trustBundle();
      if ((await findPinnedRoot(verified.trustBundlePem, o.fingerprint)) === undefined) {
        throw new CaPinError(`the CA at ${o.url} answered over a verified connection without the pinned root ${o.fingerprint}`);
      }
      return verified.trustBundlePem;
    },
    holdsPinnedRoot: async (bundlePem) => (await findPinnedRoot(bundlePem, o.fingerprint)) !== undefined,
  };
}
