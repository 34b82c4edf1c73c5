// Reading a trust bundle during a root rotation: which roots it holds, and which of them a certificate chain
// (leaf, intermediate) leads to. Members use it to see whether their leaf still comes from the CA's signing root.
import { basicConstraintsCa, parseCertificate, type CertificateView } from "./certificate.ts";
import { isSelfSigned, signedBy } from "./cert-signature.ts";
import { certificateFingerprint } from "./fingerprint.ts";
import { pemToDer, splitCertificatePem } from "./pem.ts";

export type RootInBundle = { fingerprint: string; cert: CertificateView; pem: string };

/** The self-signed CA certificates in a bundle, in order; anything else in it is skipped. */
export async function bundleRoots(bundlePem: string): Promise<RootInBundle[]> {
  const out: RootInBundle[] = [];
  for (const pem of splitCertificatePem(bundlePem)) {
    let cert: CertificateView;
    try {
      cert = parseCertificate(pemToDer(pem));
      if (basicConstraintsCa(cert) !== true) continue;
    } catch {
      continue;
    }
    if (!(await isSelfSigned(cert))) continue;
    out.push({ fingerprint: await certificateFingerprint(pem), cert, pem });
  }
  return out;
}

/**
 * The root in `bundlePem` whose fingerprint is `fingerprint` and that really is a root (self-signed CA), or undefined.
 * Only that certificate becomes the trust anchor: anything else in an unverified bundle is ignored.
 */
export async function findPinnedRoot(bundlePem: string, fingerprint: string): Promise<string | undefined> {
  return (await bundleRoots(bundlePem)).find((r) => r.fingerprint === fingerprint)?.pem;
}

/**
 * The fingerprint of the root in `bundlePem` that signed the top of `certChainPem` (leaf first, then intermediates),
 * by signature, not by name: two roots of one trust domain have the same subject. Undefined when none did.
 */
export async function chainRootFingerprint(certChainPem: string, bundlePem: string): Promise<string | undefined> {
  const blocks = splitCertificatePem(certChainPem);
  const top = blocks[blocks.length - 1];
  if (top === undefined) return undefined;
  const cert = parseCertificate(pemToDer(top));
  for (const root of await bundleRoots(bundlePem)) {
    if (await signedBy(cert, root.cert.publicKey)) return root.fingerprint;
  }
  return undefined;
}
