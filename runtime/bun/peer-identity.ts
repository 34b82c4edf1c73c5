// The caller's identity as the transport accepts it: exactly one URI SAN, a SPIFFE id, in our trust domain.
// Shared by the inbound listener (client certs) and the mesh client (server certs).

import { parseSpiffeId, spiffeIdFromSubjectAltName } from "../../shared/pki/spiffe.ts";

/** The SPIFFE id of a verified certificate's SAN string, or undefined when it must be refused. */
export function spiffeIdInTrustDomain(subjectAltName: string | undefined, trustDomain: string): string | undefined {
  const id = spiffeIdFromSubjectAltName(subjectAltName);
  if (id === undefined) return undefined;
  return parseSpiffeId(id)?.trustDomain === trustDomain ? id : undefined;
}
