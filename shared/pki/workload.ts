// Workload credentials: a fresh P-256 key made here, a CSR, and the CA's signed chain plus the trust bundle.
// The private key never leaves this process; only the CSR (public key + proof of possession) goes to the CA.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import type { CertificateAuthority } from "./ca.ts";
import { splitCertificatePem } from "./pem.ts";

x509.cryptoProvider.set(crypto);

export type WorkloadCredentials = {
  spiffeId: string;
  keyPem: string; // PKCS#8 PEM, for the TLS stack in this process only
  certChainPem: string; // leaf then intermediate
  trustBundlePem: string;
  notAfter: Date;
};

/** Anything that can sign: the in-process CA or a client of the CA service. */
export type CaSigner = {
  sign: CertificateAuthority["sign"];
  trustBundlePem(): string | Promise<string>;
};

const KEY_ALG: EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };
const SIGNING_ALG: EcdsaParams = { name: "ECDSA", hash: "SHA-256" };

/** Builds a CSR for `keys`; it asks for the id, though a CA (ours included) may decide the identity itself. */
export async function createCsrPem(keys: CryptoKeyPair, spiffeId: string): Promise<string> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    keys,
    signingAlgorithm: SIGNING_ALG,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: "url", value: spiffeId }])],
  });
  return csr.toString("pem");
}

/** A fresh key made here (extractable only so this process can hand it to its TLS stack as PEM) and its CSR. */
export async function newWorkloadKey(spiffeId: string): Promise<{ keyPem: string; csrPem: string }> {
  const keys = (await crypto.subtle.generateKey(KEY_ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const csrPem = await createCsrPem(keys, spiffeId);
  const pkcs8 = await crypto.subtle.exportKey("pkcs8", keys.privateKey);
  return { keyPem: `${x509.PemConverter.encode(pkcs8, "PRIVATE KEY")}\n`, csrPem };
}

/** What a stored or received leaf says about itself: its URI SANs and validity (first certificate of the chain). */
export function leafInfo(certChainPem: string): { uris: string[]; notBefore: Date; notAfter: Date } {
  const first = splitCertificatePem(certChainPem)[0];
  if (first === undefined) throw new Error("no certificate in the chain");
  const leaf = new x509.X509Certificate(first);
  const san = leaf.getExtension(x509.SubjectAlternativeNameExtension);
  const uris = san?.names.items.filter((n) => n.type === "url").map((n) => n.value) ?? [];
  return { uris, notBefore: leaf.notBefore, notAfter: leaf.notAfter };
}

/** In-process issuing (tests, tools): the CA is an object here, not a service. */
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
