// Making a CA's root and intermediate certificates from key pairs (EC P-256), and the small helpers every issuer shares.
// Kept apart from the authority so an in-memory CA and a persisted one (ca-material.ts) build the same chain.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(crypto);

export const MINUTE = 60_000;
export const DAY = 24 * 60 * MINUTE;
export const CLOCK_SKEW_MS = MINUTE;
export const KEY_ALG: EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };
export const SIGNING_ALG: EcdsaParams = { name: "ECDSA", hash: "SHA-256" };
export const DEFAULT_ROOT_TTL_MS = 3650 * DAY;
export const DEFAULT_INTERMEDIATE_TTL_MS = 365 * DAY;

export function randomSerialHex(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[0] = (b[0]! & 0x7f) | 0x01; // positive, and no leading zero byte to strip
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

export function pemWithNewline(cert: x509.X509Certificate): string {
  const pem = cert.toString("pem");
  return pem.endsWith("\n") ? pem : `${pem}\n`;
}

/** A self-signed root and an intermediate it signed (pathLen 0: the intermediate signs leaves only). */
export async function makeCaChain(opts: {
  trustDomain: string;
  rootKeys: CryptoKeyPair;
  intermediateKeys: CryptoKeyPair;
  rootTtlMs?: number;
  intermediateTtlMs?: number;
}): Promise<{ root: x509.X509Certificate; intermediate: x509.X509Certificate }> {
  const { trustDomain, rootKeys, intermediateKeys } = opts;
  const now = Date.now();
  const notBefore = new Date(now - CLOCK_SKEW_MS);
  const rootNotAfter = new Date(now + (opts.rootTtlMs ?? DEFAULT_ROOT_TTL_MS));
  const interNotAfter = new Date(Math.min(now + (opts.intermediateTtlMs ?? DEFAULT_INTERMEDIATE_TTL_MS), rootNotAfter.getTime()));
  const caUsages = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign;

  const rootSki = await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey);
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${trustDomain} root CA`,
    keys: rootKeys,
    serialNumber: randomSerialHex(),
    notBefore,
    notAfter: rootNotAfter,
    signingAlgorithm: SIGNING_ALG,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(caUsages, true), rootSki],
  });

  const interSki = await x509.SubjectKeyIdentifierExtension.create(intermediateKeys.publicKey);
  const intermediate = await x509.X509CertificateGenerator.create({
    subject: `CN=${trustDomain} intermediate CA`,
    issuer: root.subjectName,
    publicKey: intermediateKeys.publicKey,
    signingKey: rootKeys.privateKey,
    serialNumber: randomSerialHex(),
    notBefore,
    notAfter: interNotAfter,
    signingAlgorithm: SIGNING_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(caUsages, true),
      interSki,
      new x509.AuthorityKeyIdentifierExtension(rootSki.keyId),
    ],
  });
  return { root, intermediate };
}
