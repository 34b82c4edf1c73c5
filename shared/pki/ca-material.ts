// A CA that outlives a restart: the root and intermediate (certificates + PKCS#8 keys) as PEM text to persist,
// and loading them back. Where the text is stored is the caller's business (ca/state.ts): shared/ does no file I/O.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { isValidTrustDomain } from "./spiffe.ts";
import { KEY_ALG, makeCaChain, pemWithNewline } from "./ca-chain.ts";
import { authorityFrom, type CertificateAuthority } from "./ca.ts";

x509.cryptoProvider.set(crypto);

export type CaMaterial = {
  trustDomain: string;
  rootCertPem: string;
  /** PKCS#8 PEM. Only needed to sign a new intermediate (future rotation): serving never loads it. */
  rootKeyPem: string;
  intermediateCertPem: string;
  /** PKCS#8 PEM. */
  intermediateKeyPem: string;
};

const pkcs8Pem = async (key: CryptoKey): Promise<string> => `${x509.PemConverter.encode(await crypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY")}\n`;

/**
 * A new root and intermediate, returned as PEM to be written to the CA host's state directory. The keys are made
 * extractable for this one reason (persisting them) and exported right here; no CryptoKey outlives this call.
 * The serving CA loads them back non-extractable (loadCertificateAuthority).
 */
export async function generateCaMaterial(opts: { trustDomain: string; rootTtlMs?: number; intermediateTtlMs?: number }): Promise<CaMaterial> {
  if (!isValidTrustDomain(opts.trustDomain)) throw new Error(`invalid trust domain: ${JSON.stringify(opts.trustDomain)}`);
  const newKeys = async () => (await crypto.subtle.generateKey(KEY_ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const rootKeys = await newKeys();
  const intermediateKeys = await newKeys();
  const { root, intermediate } = await makeCaChain({ ...opts, rootKeys, intermediateKeys });
  return {
    trustDomain: opts.trustDomain,
    rootCertPem: pemWithNewline(root),
    rootKeyPem: await pkcs8Pem(rootKeys.privateKey),
    intermediateCertPem: pemWithNewline(intermediate),
    intermediateKeyPem: await pkcs8Pem(intermediateKeys.privateKey),
  };
}

function oneCertificate(pem: string, what: string): x509.X509Certificate {
  const blocks = x509.PemConverter.decodeWithHeaders(pem);
  if (blocks.length !== 1 || blocks[0]!.type !== "CERTIFICATE") throw new Error(`${what}: expected exactly one CERTIFICATE block`);
  return new x509.X509Certificate(blocks[0]!.rawData);
}

/**
 * The authority from persisted material. The intermediate key is imported non-extractable (it can sign, never be
 * read back out of memory); the chain and the key are checked to belong together before anything is signed.
 */
export async function loadCertificateAuthority(m: Omit<CaMaterial, "rootKeyPem">): Promise<CertificateAuthority> {
  if (!isValidTrustDomain(m.trustDomain)) throw new Error(`invalid trust domain: ${JSON.stringify(m.trustDomain)}`);
  const root = oneCertificate(m.rootCertPem, "root certificate");
  const intermediate = oneCertificate(m.intermediateCertPem, "intermediate certificate");
  if (!(await root.verify({ publicKey: root.publicKey, signatureOnly: true }))) throw new Error("root certificate is not self-signed");
  if (!(await intermediate.verify({ publicKey: root.publicKey, signatureOnly: true }))) throw new Error("intermediate certificate was not signed by the root");
  if (intermediate.notAfter.getTime() <= Date.now()) throw new Error(`intermediate certificate expired at ${intermediate.notAfter.toISOString()}`);
  const blocks = x509.PemConverter.decodeWithHeaders(m.intermediateKeyPem);
  if (blocks.length !== 1 || blocks[0]!.type !== "PRIVATE KEY") throw new Error("intermediate key: expected one PKCS#8 PRIVATE KEY block");
  const key = await crypto.subtle.importKey("pkcs8", blocks[0]!.rawData, KEY_ALG, false, ["sign"]);
  // Proof the key is the intermediate's: sign a nonce and verify with the certificate's public key.
  const nonce = crypto.getRandomValues(new Uint8Array(32));
  const sig = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key, nonce);
  const pub = await intermediate.publicKey.export(KEY_ALG, ["verify"]);
  if (!(await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, pub, sig, nonce))) throw new Error("intermediate key does not match the intermediate certificate");
  return authorityFrom({ trustDomain: m.trustDomain, root, intermediate, intermediateKey: key });
}
