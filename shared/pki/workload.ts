// Workload credentials: a fresh P-256 key made here, a CSR, and the CA's signed chain plus the trust bundle.
// The private key never leaves this process; only the CSR (public key + proof of possession) goes to the CA.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import type { CertificateAuthority } from "./ca.ts";

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

export async function issueWorkloadCredentials(
  ca: CaSigner,
  spiffeId: string,
  opts?: { ttlMs?: number },
): Promise<WorkloadCredentials> {
  // Extractable only so the key can be handed to the TLS stack as PEM in this same process.
  const keys = (await crypto.subtle.generateKey(KEY_ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const csrPem = await createCsrPem(keys, spiffeId);
  const [signed, trustBundlePem] = await Promise.all([
    ca.sign(csrPem, spiffeId, opts?.ttlMs === undefined ? undefined : { ttlMs: opts.ttlMs }),
    ca.trustBundlePem(),
  ]);
  const pkcs8 = await crypto.subtle.exportKey("pkcs8", keys.privateKey);
  return {
    spiffeId,
    keyPem: `${x509.PemConverter.encode(pkcs8, "PRIVATE KEY")}\n`,
    certChainPem: signed.certChainPem,
    trustBundlePem,
    notAfter: signed.notAfter,
  };
}
