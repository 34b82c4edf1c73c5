// Root fingerprints for pinning: "sha256:<64 hex>" over the certificate's DER, the value `ca init` prints and
// members are given with --ca-fingerprint. Also accepts openssl's "AB:CD:..." spelling.
import { parseCertificate } from "./certificate.ts";
import { pemToDer, splitCertificatePem } from "./pem.ts";

const hex = (b: ArrayBuffer): string => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");

/** Of the first certificate in `certPem`; throws when there is none or it does not parse as a certificate. */
export async function certificateFingerprint(certPem: string): Promise<string> {
  const der = pemToDer(certPem);
  parseCertificate(der);
  return `sha256:${hex(await crypto.subtle.digest("SHA-256", der))}`;
}

/** "sha256:<hex>" in lower case, or undefined when the input is not a SHA-256 fingerprint in any usual spelling. */
export function normalizeFingerprint(raw: string): string | undefined {
  const body = raw.trim().replace(/^sha-?256(?: fingerprint)?\s*[:=]\s*/i, "").replaceAll(":", "").toLowerCase();
  return /^[0-9a-f]{64}$/.test(body) ? `sha256:${body}` : undefined;
}

/** The fingerprints of every certificate in a bundle (for error messages: "the CA serves sha256:..."). */
export async function bundleFingerprints(bundlePem: string): Promise<string[]> {
  const out: string[] = [];
  for (const pem of splitCertificatePem(bundlePem)) {
    try {
      out.push(await certificateFingerprint(pem));
    } catch {
      // not a certificate: nothing to report
    }
  }
  return out;
}
