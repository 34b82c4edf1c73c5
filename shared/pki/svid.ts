// The X509-SVID rules a peer certificate must meet before anything it sends reaches an app: one SPIFFE id in our
// trust domain, a leaf (not a CA), signing-only key usage, a fitting EKU, a strong key and no SHA-1 signature.
import { basicConstraintsCa, extendedKeyUsages, keyUsageFlags, OID, parseCertificate, uriSans, type CertificateView } from "./certificate.ts";
import { parseSpiffeId } from "./spiffe.ts";

export type SvidVerdict = { ok: true; spiffeId: string } | { ok: false; reason: string };

const OID_SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const OID_CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
const CURVES: Record<string, string> = { "1.2.840.10045.3.1.7": "P-256", "1.3.132.0.34": "P-384" };
// sha1WithRSAEncryption, ecdsa-with-SHA1, dsa-with-sha1, md5WithRSAEncryption, md2WithRSAEncryption
const WEAK_SIGNATURES = new Set(["1.2.840.113549.1.1.5", "1.2.840.10045.4.1", "1.2.840.10040.4.3", "1.2.840.113549.1.1.4", "1.2.840.113549.1.1.2"]);
// KeyUsage bits as flags (bit n = 1 << n, RFC 5280 4.2.1.3)
const KU_DIGITAL_SIGNATURE = 1;
const KU_KEY_CERT_SIGN = 1 << 5;
const KU_CRL_SIGN = 1 << 6;

const no = (reason: string): SvidVerdict => ({ ok: false, reason });

/**
 * Checks a peer's leaf certificate (DER, already chain-verified by TLS against the trust bundle). `role` is what the
 * peer acts as: an inbound listener checks clients, the mesh client checks servers. Anything malformed is refused.
 */
export function checkX509Svid(der: Uint8Array, trustDomain: string, role: "client" | "server"): SvidVerdict {
  try {
    return check(parseCertificate(der), trustDomain, role);
  } catch {
    return no("certificate could not be parsed");
  }
}

function check(cert: CertificateView, trustDomain: string, role: "client" | "server"): SvidVerdict {
  const uris = uriSans(cert);
  if (uris.length !== 1) return no(`an X509-SVID has exactly one URI SAN, this one has ${uris.length}`);
  const id = parseSpiffeId(uris[0]!);
  if (id === undefined) return no(`URI SAN ${uris[0]} is not a SPIFFE id`);
  if (id.trustDomain !== trustDomain) return no(`SPIFFE id ${uris[0]} is outside trust domain ${trustDomain}`);

  if (basicConstraintsCa(cert) === true) return no("leaf has CA:true");
  const ku = keyUsageFlags(cert);
  if (ku === undefined) return no("leaf has no key usage extension");
  if ((ku & KU_KEY_CERT_SIGN) !== 0) return no("leaf key usage includes keyCertSign");
  if ((ku & KU_CRL_SIGN) !== 0) return no("leaf key usage includes cRLSign");
  if ((ku & KU_DIGITAL_SIGNATURE) === 0) return no("leaf key usage lacks digitalSignature");
  const eku = extendedKeyUsages(cert);
  const want = role === "client" ? OID_CLIENT_AUTH : OID_SERVER_AUTH;
  if (eku !== undefined && !eku.includes(want)) return no(`extended key usage lacks ${role === "client" ? "clientAuth" : "serverAuth"}`);

  const keyProblem = checkKey(cert);
  if (keyProblem !== undefined) return no(keyProblem);
  const sigAlg = cert.signatureAlgorithm;
  if (WEAK_SIGNATURES.has(sigAlg)) return no(`signature algorithm ${sigAlg} is not allowed (SHA-1/MD5)`);
  return { ok: true, spiffeId: uris[0]! };
}

function checkKey(cert: CertificateView): string | undefined {
  const k = cert.publicKey;
  if (k.algorithm === OID.EC_PUBLIC_KEY) {
    return CURVES[k.parameter ?? ""] === undefined ? `EC key on curve ${k.parameter ?? "(unknown)"}; only P-256 and P-384 are allowed` : undefined;
  }
  if (k.algorithm === OID.RSA) {
    const bits = k.rsaBits ?? 0;
    return bits >= 2048 ? undefined : `RSA key of ${bits} bits; at least 2048 are required`;
  }
  return `key algorithm ${k.algorithm} is not allowed (EC P-256/P-384 or RSA >= 2048)`;
}
