// Reading a trust bundle during a root rotation: which roots it holds, and which of them a certificate chain
// (leaf, intermediate) leads to. Members use it to see whether their leaf still comes from the CA's signing root.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { certificateFingerprint } from "./fingerprint.ts";
import { splitCertificatePem } from "./pem.ts";

x509.cryptoProvider.set(crypto);

export type RootInBundle = { fingerprint: string; cert: x509.X509Certificate; pem: string };

/** The self-signed CA certificates in a bundle, in order; anything else in it is skipped. */
export async function bundleRoots(bundlePem: string): Promise<RootInBundle[]> {
  const out: RootInBundle[] = [];
  for (const pem of splitCertificatePem(bundlePem)) {
    let cert: x509.X509Certificate;
    try {
      cert = new x509.X509Certificate(pem);
    } catch {
      continue;
    }
    if (cert.getExtension(x509.BasicConstraintsExtension)?.ca !== true) continue;
    if (!(await cert.isSelfSigned())) continue;
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
  const cert = new x509.X509Certificate(top);
  for (const root of await bundleRoots(bundlePem)) {
    try {
      if (await cert.verify({ publicKey: root.cert.publicKey, signatureOnly: true })) return root.fingerprint;
    } catch {
      // another key type or a malformed signature: not this root
    }
  }
  return undefined;
}
