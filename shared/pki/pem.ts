// PEM helpers for certificate chains (runtime-neutral string work only).
// A chain travels as one string, leaf first; some callers need the blocks one by one.

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----\r?\n[\s\S]+?-----END CERTIFICATE-----(?:\r?\n)?/g;

/** The CERTIFICATE blocks of a PEM string in order, each ending with a newline. */
export function splitCertificatePem(pem: string): string[] {
  return (pem.match(CERT_BLOCK) ?? []).map((b) => (b.endsWith("\n") ? b : `${b}\n`));
}
