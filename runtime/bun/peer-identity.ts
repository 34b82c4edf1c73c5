// The peer's identity as the transport accepts it: a chain-verified leaf that also meets the X509-SVID rules
// (shared/pki/svid.ts). Shared by the inbound listener (client certificates) and the mesh client (server certificates).
import { checkX509Svid, type SvidVerdict } from "../../shared/pki/svid.ts";

/**
 * Checks the DER of a peer's leaf; undefined DER (no certificate) is refused. Parsing runs once per connection, never
 * per request, so its cost stays off the request path.
 */
export function verifyPeer(der: Uint8Array | undefined, trustDomain: string, role: "client" | "server"): SvidVerdict {
  if (der === undefined || der.length === 0) return { ok: false, reason: "no peer certificate" };
  return checkX509Svid(der, trustDomain, role);
}
