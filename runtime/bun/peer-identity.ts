// The peer's identity as the transport accepts it: a chain-verified leaf that also meets the X509-SVID rules
// (shared/pki/svid.ts). Shared by the inbound listener (client certificates) and the mesh client (server certificates).
import type { SvidVerdict } from "../../shared/pki/svid.ts";
import { createSvidCache } from "../../shared/pki/svid-cache.ts";

const check = createSvidCache();

/**
 * Checks the DER of a peer's leaf; undefined DER (no certificate) is refused. Runs once per connection (never per
 * request), and a leaf already judged is not parsed again.
 */
export function verifyPeer(der: Uint8Array | undefined, trustDomain: string, role: "client" | "server"): SvidVerdict {
  if (der === undefined || der.length === 0) return { ok: false, reason: "no peer certificate" };
  return check(der, trustDomain, role);
}
