// The upstream's identity on an outbound L4 connection: a chain that verified against our trust bundle, a leaf that
// meets the X509-SVID rules as a server, and exactly the SPIFFE id of the service we meant to reach.
import { parseSpiffeId } from "../../shared/pki/spiffe.ts";
import { verifyPeer } from "./peer-identity.ts";

/**
 * Bun.connect checks the chain and then the host name, and reports the first failure in the handshake callback (tried
 * on 1.4.4: another CA's leaf gives UNABLE_TO_GET_ISSUER_CERT_LOCALLY, a good one ERR_TLS_CERT_ALTNAME_INVALID since a
 * SPIFFE leaf has only a URI SAN). So only that one code, or none, means the chain verified.
 */
const HOST_NAME_ONLY = "ERR_TLS_CERT_ALTNAME_INVALID";

/** Why the upstream is refused, or undefined when it is the expected service. */
export function upstreamVerdict(der: Uint8Array | undefined, authError: Error | null, expected: string): string | undefined {
  if (authError !== null && (authError as { code?: unknown }).code !== HOST_NAME_ONLY) return `upstream certificate refused: ${authError.message}`;
  const trustDomain = parseSpiffeId(expected)?.trustDomain;
  if (trustDomain === undefined) return `expected identity ${expected} is not a SPIFFE id`;
  const verdict = verifyPeer(der, trustDomain, "server");
  if (!verdict.ok) return `upstream certificate refused: ${verdict.reason}`;
  if (verdict.spiffeId !== expected) return `upstream identity ${verdict.spiffeId} is not the expected ${expected}`;
  return undefined;
}
