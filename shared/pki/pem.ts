// PEM helpers for certificate chains and keys (runtime-neutral string work only).
// A chain travels as one string, leaf first; some callers need the blocks one by one, or their DER.

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----\r?\n[\s\S]+?-----END CERTIFICATE-----(?:\r?\n)?/g;

/** The CERTIFICATE blocks of a PEM string in order, each ending with a newline. */
export function splitCertificatePem(pem: string): string[] {
  return (pem.match(CERT_BLOCK) ?? []).map((b) => (b.endsWith("\n") ? b : `${b}\n`));
}

/** The DER of the first `label` block (CERTIFICATE unless told); throws when there is none or its base64 is broken. */
export function pemToDer(pem: string, label = "CERTIFICATE"): Uint8Array<ArrayBuffer> {
  const begin = `-----BEGIN ${label}-----`;
  const from = pem.indexOf(begin);
  const to = from < 0 ? -1 : pem.indexOf(`-----END ${label}-----`, from);
  if (to < 0) throw new Error(`no ${label} block`);
  const body = pem.slice(from + begin.length, to).replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body) || body.length % 4 !== 0) throw new Error(`${label} block is not base64`);
  const bin = atob(body);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** PEM in the layout @peculiar/x509 and OpenSSL write: 64 base64 characters a line, no newline after the END line. */
export function derToPem(der: Uint8Array | ArrayBuffer, label: string): string {
  const bytes = der instanceof Uint8Array ? der : new Uint8Array(der);
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  const b64 = btoa(bin);
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----`;
}
