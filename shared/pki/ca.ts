// The mesh certificate authority: an EC P-256 root and intermediate held in memory, signing workload CSRs.
// The identity in a leaf comes only from the caller (who authorized it), never from what the CSR asks for.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { isValidTrustDomain, parseSpiffeId } from "./spiffe.ts";

x509.cryptoProvider.set(crypto);

export type SignedLeaf = { certChainPem: string /* leaf PEM then intermediate PEM */; notAfter: Date };

export interface CertificateAuthority {
  readonly trustDomain: string;
  sign(csrPem: string, spiffeId: string, opts?: { ttlMs?: number }): Promise<SignedLeaf>;
  /** Public roots only, PEM; what peers put in their `ca` option. */
  trustBundlePem(): string;
}

/** The request itself is bad (CSR, id, ttl): callers map this to a 400, anything else is a CA fault. */
export class CaRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CaRequestError";
  }
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
export const DEFAULT_LEAF_TTL_MS = DAY;
const MIN_LEAF_TTL_MS = 1_000; // short lifetimes are useful for rotation tests
const MAX_LEAF_TTL_MS = 30 * DAY;
const CLOCK_SKEW_MS = MINUTE;
const KEY_ALG: EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };
const SIGNING_ALG: EcdsaParams = { name: "ECDSA", hash: "SHA-256" };
const MAX_CSR_PEM_CHARS = 16 * 1024;

/** What a leaf is built from; the production path fills this in from a checked request. */
export type LeafParams = {
  readonly publicKey: x509.PublicKey | CryptoKey;
  readonly uris: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Test support only (unsafeLeafIssuer): replace the leaf's extensions or signature algorithm to forge bad SVIDs. */
  readonly unsafe?: { extensions?: (defaults: x509.Extension[]) => x509.Extension[]; signingAlgorithm?: EcdsaParams };
};
type LeafIssuer = (p: LeafParams) => Promise<{ leafPem: string; intermediatePem: string }>;

// Reachable only through unsafeLeafIssuer(): keeps `sign` the single strict entry point for production code.
const issuers = new WeakMap<CertificateAuthority, LeafIssuer>();

/**
 * @internal Test support (test/support/pki-testing.ts): issues leaves with arbitrary SANs and validity,
 * so tests can prove listeners reject them. Never call this from production code.
 */
export function unsafeLeafIssuer(ca: CertificateAuthority): LeafIssuer {
  const issue = issuers.get(ca);
  if (!issue) throw new Error("not a CertificateAuthority created by createCertificateAuthority");
  return issue;
}

function randomSerialHex(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[0] = (b[0]! & 0x7f) | 0x01; // positive, and no leading zero byte to strip
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function pemWithNewline(cert: x509.X509Certificate): string {
  const pem = cert.toString("pem");
  return pem.endsWith("\n") ? pem : `${pem}\n`;
}

async function newKeyPair(): Promise<CryptoKeyPair> {
  // Non-extractable: the CA's private keys can sign but can never be serialized out of this process.
  return (await crypto.subtle.generateKey(KEY_ALG, false, ["sign", "verify"])) as CryptoKeyPair;
}

export async function createCertificateAuthority(opts: {
  trustDomain: string;
  rootTtlMs?: number;
  intermediateTtlMs?: number;
}): Promise<CertificateAuthority> {
  const { trustDomain } = opts;
  if (!isValidTrustDomain(trustDomain)) throw new Error(`invalid trust domain: ${JSON.stringify(trustDomain)}`);
  const now = Date.now();
  const notBefore = new Date(now - CLOCK_SKEW_MS);
  const rootNotAfter = new Date(now + (opts.rootTtlMs ?? 3650 * DAY));
  const interNotAfter = new Date(Math.min(now + (opts.intermediateTtlMs ?? 365 * DAY), rootNotAfter.getTime()));
  const caUsages = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign;

  const rootKeys = await newKeyPair();
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

  const interKeys = await newKeyPair();
  const interSki = await x509.SubjectKeyIdentifierExtension.create(interKeys.publicKey);
  const intermediate = await x509.X509CertificateGenerator.create({
    subject: `CN=${trustDomain} intermediate CA`,
    issuer: root.subjectName,
    publicKey: interKeys.publicKey,
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

  const rootPem = pemWithNewline(root);
  const intermediatePem = pemWithNewline(intermediate);

  const issueLeaf: LeafIssuer = async (p) => {
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      await x509.SubjectKeyIdentifierExtension.create(p.publicKey),
      new x509.AuthorityKeyIdentifierExtension(interSki.keyId),
    ];
    // SPIFFE: identity lives in the URI SAN; the subject stays empty, which RFC 5280 says makes the SAN critical.
    if (p.uris.length > 0) {
      extensions.push(new x509.SubjectAlternativeNameExtension(p.uris.map((value) => ({ type: "url" as const, value })), true));
    }
    const leaf = await x509.X509CertificateGenerator.create({
      subject: p.uris.length > 0 ? "" : "CN=no-uri-san",
      issuer: intermediate.subjectName,
      publicKey: p.publicKey,
      signingKey: interKeys.privateKey,
      serialNumber: randomSerialHex(),
      notBefore: p.notBefore,
      notAfter: p.notAfter,
      signingAlgorithm: p.unsafe?.signingAlgorithm ?? SIGNING_ALG,
      extensions: p.unsafe?.extensions?.(extensions) ?? extensions,
    });
    return { leafPem: pemWithNewline(leaf), intermediatePem };
  };

  const ca: CertificateAuthority = {
    trustDomain,
    trustBundlePem: () => rootPem,
    async sign(csrPem, spiffeId, signOpts) {
      const id = parseSpiffeId(spiffeId);
      if (!id) throw new CaRequestError(`not a valid SPIFFE id: ${JSON.stringify(spiffeId)}`);
      if (id.trustDomain !== trustDomain) {
        throw new CaRequestError(`SPIFFE id ${spiffeId} is outside this CA's trust domain ${trustDomain}`);
      }
      const ttlMs = signOpts?.ttlMs ?? DEFAULT_LEAF_TTL_MS;
      if (!Number.isInteger(ttlMs) || ttlMs < MIN_LEAF_TTL_MS || ttlMs > MAX_LEAF_TTL_MS) {
        throw new CaRequestError(`ttlMs must be an integer between ${MIN_LEAF_TTL_MS} and ${MAX_LEAF_TTL_MS}`);
      }
      const csr = await parseCsr(csrPem);
      const issuedAt = Date.now();
      // A leaf never outlives the intermediate that vouches for it.
      const notAfter = new Date(Math.min(issuedAt + ttlMs, intermediate.notAfter.getTime()));
      const { leafPem } = await issueLeaf({
        publicKey: csr.publicKey,
        uris: [spiffeId],
        notBefore: new Date(issuedAt - CLOCK_SKEW_MS),
        notAfter,
      });
      return { certChainPem: leafPem + intermediatePem, notAfter: new x509.X509Certificate(leafPem).notAfter };
    },
  };
  issuers.set(ca, issueLeaf);
  return ca;
}

/** Exactly one PEM CSR block, a P-256 key, and a self-signature that checks out (proof of key possession). */
async function parseCsr(csrPem: string): Promise<x509.Pkcs10CertificateRequest> {
  if (typeof csrPem !== "string" || csrPem.length > MAX_CSR_PEM_CHARS) throw new CaRequestError("csrPem must be a PEM string of at most 16 KiB");
  let csr: x509.Pkcs10CertificateRequest;
  try {
    const blocks = x509.PemConverter.decodeWithHeaders(csrPem);
    if (blocks.length !== 1 || blocks[0]!.type !== "CERTIFICATE REQUEST") throw new Error("expected one CERTIFICATE REQUEST block");
    csr = new x509.Pkcs10CertificateRequest(blocks[0]!.rawData);
  } catch {
    throw new CaRequestError("csrPem is not a single PEM-encoded PKCS#10 certificate request");
  }
  const alg = csr.publicKey.algorithm as Partial<EcKeyAlgorithm>;
  if (alg.name !== "ECDSA" || alg.namedCurve !== "P-256") throw new CaRequestError("CSR key must be EC P-256");
  let ok = false;
  try {
    ok = await csr.verify();
  } catch {
    ok = false;
  }
  if (!ok) throw new CaRequestError("CSR signature does not verify");
  return csr;
}
