// Workload credentials: a fresh P-256 key made here, a CSR (csr.ts), and the CA's signed chain plus the trust bundle.
// The private key never leaves the member that made it; only the CSR goes to the CA. No X.509 library: every member loads this.
import type { CertificateAuthority } from "./ca.ts";
import { parseCertificate, uriSans } from "./certificate.ts";
import { createCsrPem } from "./csr.ts";
import { derToPem, pemToDer, splitCertificatePem } from "./pem.ts";

export type WorkloadCredentials = {
  spiffeId: string;
  keyPem: string; // PKCS#8 PEM, for this member's own TLS stack only
  certChainPem: string; // leaf then intermediate
  trustBundlePem: string;
  notAfter: Date;
};

/** Anything that can sign: a local CA object or a client of the CA service. */
export type CaSigner = {
  sign: CertificateAuthority["sign"];
  trustBundlePem(): string | Promise<string>;
};

const KEY_ALG: EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };

/** A fresh key made here (extractable only so this member can hand it to its TLS stack as PEM) and its CSR. */
export async function newWorkloadKey(spiffeId: string): Promise<{ keyPem: string; csrPem: string }> {
  const keys = (await crypto.subtle.generateKey(KEY_ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const csrPem = await createCsrPem(keys, spiffeId);
  const pkcs8 = await crypto.subtle.exportKey("pkcs8", keys.privateKey);
  return { keyPem: `${derToPem(pkcs8, "PRIVATE KEY")}\n`, csrPem };
}

/** What a stored or received leaf says about itself: its URI SANs and validity (first certificate of the chain). */
export function leafInfo(certChainPem: string): { uris: string[]; notBefore: Date; notAfter: Date } {
  const first = splitCertificatePem(certChainPem)[0];
  if (first === undefined) throw new Error("no certificate in the chain");
  const leaf = parseCertificate(pemToDer(first));
  return { uris: uriSans(leaf), notBefore: leaf.notBefore, notAfter: leaf.notAfter };
}

/** Local issuing (tests, tools): the CA is an object here, not a service. */
export async function issueWorkloadCredentials(
  ca: CaSigner,
  spiffeId: string,
  opts?: { ttlMs?: number },
): Promise<WorkloadCredentials> {
  const { keyPem, csrPem } = await newWorkloadKey(spiffeId);
  const [signed, trustBundlePem] = await Promise.all([
    ca.sign(csrPem, spiffeId, opts?.ttlMs === undefined ? undefined : { ttlMs: opts.ttlMs }),
    ca.trustBundlePem(),
  ]);
  return {
    spiffeId,
    keyPem,
    certChainPem: signed.certChainPem,
    trustBundlePem,
    notAfter: signed.notAfter,
  };
}
