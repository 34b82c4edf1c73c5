// The validity window of a member's leaf (the first certificate of its chain PEM), for the status report.
// Undefined when it can't be read: a report without dates is better than no report.
import { parseCertificate } from "../shared/pki/certificate.ts";
import { pemToDer, splitCertificatePem } from "../shared/pki/pem.ts";

export function leafValidity(chainPem: string): { notBefore: Date; notAfter: Date } | undefined {
  try {
    const first = splitCertificatePem(chainPem)[0];
    if (first === undefined) return undefined;
    const c = parseCertificate(pemToDer(first));
    return { notBefore: c.notBefore, notAfter: c.notAfter };
  } catch {
    return undefined;
  }
}
