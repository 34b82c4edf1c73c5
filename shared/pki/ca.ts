// The mesh certificate authority: signs workload CSRs with its intermediate (EC P-256). The identity in a leaf comes
// only from the caller (who authorized it), never from what the CSR asks for. Persisting it: ca-material.ts.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { isValidTrustDomain, parseSpiffeId } from "./spiffe.ts";
import { CLOCK_SKEW_MS, DAY, KEY_ALG, makeCaChain, pemWithNewline, randomSerialHex, SIGNING_ALG } from "./ca-chain.ts";

x509.cryptoProvider.set(crypto);

export type SignedLeaf = { certChainPem: string /* leaf PEM then intermediate PEM */; notAfter: Date };

/** The CA service's own TLS certificate: one URI naming the CA, plus DNS names and IPs for tools like curl. */
export type ServerCertificateRequest = { publicKey: CryptoKey; uri: string; dnsNames: readonly string[]; ips: readonly string[]; ttlMs: number };

export interface CertificateAuthority {
  readonly trustDomain: string;
  sign(csrPem: string, spiffeId: string, opts?: { ttlMs?: number }): Promise<SignedLeaf>;
  /** Public roots only, PEM; what peers put in their `ca` option. */
  trustBundlePem(): string;
  /** A serverAuth-only leaf for the CA's own HTTPS listener (never a workload identity). */
  issueServerCertificate(req: ServerCertificateRequest): Promise<SignedLeaf>;
}

/** The request itself is bad (CSR, id, ttl): callers map this to a 400, anything else is a CA fault. */
export class CaRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CaRequestError";
  }
}

export const DEFAULT_LEAF_TTL_MS = DAY;
export const MIN_LEAF_TTL_MS = 1_000; // short lifetimes are useful for rotation tests
export const MAX_LEAF_TTL_MS = 30 * DAY;
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

/** An in-memory CA (tests, tools): its keys are non-extractable, so they can sign but never leave the holder's memory. */
export async function createCertificateAuthority(opts: { trustDomain: string; rootTtlMs?: number; intermediateTtlMs?: number }): Promise<CertificateAuthority> {
  if (!isValidTrustDomain(opts.trustDomain)) throw new Error(`invalid trust domain: ${JSON.stringify(opts.trustDomain)}`);
  const newKeys = async () => (await crypto.subtle.generateKey(KEY_ALG, false, ["sign", "verify"])) as CryptoKeyPair;
  const intermediateKeys = await newKeys();
  const { root, intermediate } = await makeCaChain({ ...opts, rootKeys: await newKeys(), intermediateKeys });
  return authorityFrom({ trustDomain: opts.trustDomain, root, intermediate, intermediateKey: intermediateKeys.privateKey });
}

/** The authority around a chain whose intermediate key it holds (from createCertificateAuthority or ca-material.ts). */
export async function authorityFrom(o: {
  trustDomain: string;
  root: x509.X509Certificate;
  intermediate: x509.X509Certificate;
  intermediateKey: CryptoKey;
}): Promise<CertificateAuthority> {
  const { trustDomain, intermediate, intermediateKey } = o;
  if (!isValidTrustDomain(trustDomain)) throw new Error(`invalid trust domain: ${JSON.stringify(trustDomain)}`);
  const interSki = intermediate.getExtension(x509.SubjectKeyIdentifierExtension);
  if (interSki === null) throw new Error("intermediate certificate has no subject key identifier");
  const rootPem = pemWithNewline(o.root);
  const intermediatePem = pemWithNewline(intermediate);

  const create = async (publicKey: x509.PublicKey | CryptoKey, p: { subject: string; notBefore: Date; notAfter: Date; extensions: x509.Extension[]; signingAlgorithm?: EcdsaParams }) => {
    const cert = await x509.X509CertificateGenerator.create({
      subject: p.subject,
      issuer: intermediate.subjectName,
      publicKey,
      signingKey: intermediateKey,
      serialNumber: randomSerialHex(),
      notBefore: p.notBefore,
      notAfter: p.notAfter,
      signingAlgorithm: p.signingAlgorithm ?? SIGNING_ALG,
      extensions: p.extensions,
    });
    return pemWithNewline(cert);
  };
  const baseExtensions = async (publicKey: x509.PublicKey | CryptoKey, eku: string[]): Promise<x509.Extension[]> => [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(eku),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
    new x509.AuthorityKeyIdentifierExtension(interSki.keyId),
  ];
  // A leaf never outlives the intermediate that vouches for it.
  const capped = (issuedAt: number, ttlMs: number) => new Date(Math.min(issuedAt + ttlMs, intermediate.notAfter.getTime()));

  const issueLeaf: LeafIssuer = async (p) => {
    const extensions = await baseExtensions(p.publicKey, [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]);
    // SPIFFE: identity lives in the URI SAN; the subject stays empty, which RFC 5280 says makes the SAN critical.
    if (p.uris.length > 0) {
      extensions.push(new x509.SubjectAlternativeNameExtension(p.uris.map((value) => ({ type: "url" as const, value })), true));
    }
    const leafPem = await create(p.publicKey, {
      subject: p.uris.length > 0 ? "" : "CN=no-uri-san",
      notBefore: p.notBefore,
      notAfter: p.notAfter,
      extensions: p.unsafe?.extensions?.(extensions) ?? extensions,
      ...(p.unsafe?.signingAlgorithm === undefined ? {} : { signingAlgorithm: p.unsafe.signingAlgorithm }),
    });
    return { leafPem, intermediatePem };
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
      const { leafPem } = await issueLeaf({ publicKey: csr.publicKey, uris: [spiffeId], notBefore: new Date(issuedAt - CLOCK_SKEW_MS), notAfter: capped(issuedAt, ttlMs) });
      return { certChainPem: leafPem + intermediatePem, notAfter: new x509.X509Certificate(leafPem).notAfter };
    },
    async issueServerCertificate(req) {
      const extensions = await baseExtensions(req.publicKey, [x509.ExtendedKeyUsage.serverAuth]);
      const names = [
        { type: "url" as const, value: req.uri },
        ...req.dnsNames.map((value) => ({ type: "dns" as const, value })),
        ...req.ips.map((value) => ({ type: "ip" as const, value })),
      ];
      extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
      const issuedAt = Date.now();
      const leafPem = await create(req.publicKey, { subject: `CN=${trustDomain} CA service`, notBefore: new Date(issuedAt - CLOCK_SKEW_MS), notAfter: capped(issuedAt, req.ttlMs), extensions });
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
