// Test support: the X509-SVID check as it was written on @peculiar/x509 (before members stopped loading it), kept as
// the reference the hand-written DER reading (shared/pki/certificate.ts, svid.ts) is tested against, verdict by verdict.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { parseSpiffeId } from "../../shared/pki/spiffe.ts";

x509.cryptoProvider.set(crypto);

type SvidVerdict = { ok: true; spiffeId: string } | { ok: false; reason: string };

const OID_SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const OID_CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
const OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1";
const OID_RSA = "1.2.840.113549.1.1.1";
const CURVES: Record<string, string> = { "1.2.840.10045.3.1.7": "P-256", "1.3.132.0.34": "P-384" };
// sha1WithRSAEncryption, ecdsa-with-SHA1, dsa-with-sha1, md5WithRSAEncryption, md2WithRSAEncryption
const WEAK_SIGNATURES = new Set(["1.2.840.113549.1.1.5", "1.2.840.10045.4.1", "1.2.840.10040.4.3", "1.2.840.113549.1.1.4", "1.2.840.113549.1.1.2"]);

const no = (reason: string): SvidVerdict => ({ ok: false, reason });

/**
 * Checks a peer's leaf certificate (DER, already chain-verified by TLS against the trust bundle). `role` is what the
 * peer acts as: an inbound listener checks clients, the mesh client checks servers.
 */
export function referenceCheckX509Svid(der: Uint8Array, trustDomain: string, role: "client" | "server"): SvidVerdict {
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(der as Uint8Array<ArrayBuffer>);
  } catch {
    return no("certificate could not be parsed");
  }
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const uris = san?.names.items.filter((n) => n.type === "url").map((n) => n.value) ?? [];
  if (uris.length !== 1) return no(`an X509-SVID has exactly one URI SAN, this one has ${uris.length}`);
  const id = parseSpiffeId(uris[0]!);
  if (id === undefined) return no(`URI SAN ${uris[0]} is not a SPIFFE id`);
  if (id.trustDomain !== trustDomain) return no(`SPIFFE id ${uris[0]} is outside trust domain ${trustDomain}`);

  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  if (bc?.ca === true) return no("leaf has CA:true");
  const ku = cert.getExtension(x509.KeyUsagesExtension);
  if (ku === null) return no("leaf has no key usage extension");
  if ((ku.usages & x509.KeyUsageFlags.keyCertSign) !== 0) return no("leaf key usage includes keyCertSign");
  if ((ku.usages & x509.KeyUsageFlags.cRLSign) !== 0) return no("leaf key usage includes cRLSign");
  if ((ku.usages & x509.KeyUsageFlags.digitalSignature) === 0) return no("leaf key usage lacks digitalSignature");
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  const want = role === "client" ? OID_CLIENT_AUTH : OID_SERVER_AUTH;
  if (eku !== null && !eku.usages.map(String).includes(want)) return no(`extended key usage lacks ${role === "client" ? "clientAuth" : "serverAuth"}`);

  const keyProblem = checkKey(cert);
  if (keyProblem !== undefined) return no(keyProblem);
  const sigAlg = signatureOid(cert);
  if (sigAlg === undefined || WEAK_SIGNATURES.has(sigAlg)) return no(`signature algorithm ${sigAlg ?? "(unknown)"} is not allowed (SHA-1/MD5)`);
  return { ok: true, spiffeId: uris[0]! };
}

function checkKey(cert: x509.X509Certificate): string | undefined {
  const alg = cert.publicKey.algorithm as { name?: string; namedCurve?: string; modulusLength?: number };
  const spki = readSpki(new Uint8Array(cert.publicKey.rawData));
  if (spki?.alg === OID_EC_PUBLIC_KEY) {
    const curve = CURVES[spki.param ?? ""];
    return curve === undefined ? `EC key on curve ${spki.param ?? "(unknown)"}; only P-256 and P-384 are allowed` : undefined;
  }
  if (spki?.alg === OID_RSA) {
    const bits = alg.modulusLength ?? spki.rsaBits ?? 0;
    return bits >= 2048 ? undefined : `RSA key of ${bits} bits; at least 2048 are required`;
  }
  return `key algorithm ${spki?.alg ?? alg.name ?? "(unknown)"} is not allowed (EC P-256/P-384 or RSA >= 2048)`;
}

// Minimal DER reading for the two fields the library does not surface uniformly across runtimes.
type Tlv = { tag: number; start: number; end: number; next: number };
function tlv(b: Uint8Array, at: number): Tlv {
  const tag = b[at]!;
  let len = b[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[start + i]!;
    start += n;
  }
  return { tag, start, end: start + len, next: start + len };
}
function oid(b: Uint8Array, t: Tlv): string {
  const out: number[] = [];
  let v = 0;
  for (let i = t.start; i < t.end; i++) {
    v = v * 128 + (b[i]! & 0x7f);
    if ((b[i]! & 0x80) === 0) {
      if (out.length === 0) out.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else out.push(v);
      v = 0;
    }
  }
  return out.join(".");
}

/** SubjectPublicKeyInfo: algorithm OID, its parameter OID (the EC curve), and the RSA modulus size. */
function readSpki(b: Uint8Array): { alg: string; param: string | undefined; rsaBits: number | undefined } | undefined {
  try {
    const seq = tlv(b, 0);
    const algSeq = tlv(b, seq.start);
    const algOid = tlv(b, algSeq.start);
    const alg = oid(b, algOid);
    const p = algOid.next < algSeq.end ? tlv(b, algOid.next) : undefined;
    const param = p !== undefined && p.tag === 0x06 ? oid(b, p) : undefined;
    let rsaBits: number | undefined;
    if (alg === OID_RSA) {
      const bits = tlv(b, algSeq.next); // BIT STRING wrapping RSAPublicKey
      const rsa = tlv(b, bits.start + 1);
      const mod = tlv(b, rsa.start);
      let first = mod.start;
      while (first < mod.end && b[first] === 0) first++;
      rsaBits = (mod.end - first) * 8 - Math.clz32(b[first]!) + 24;
    }
    return { alg, param, rsaBits };
  } catch {
    return undefined;
  }
}

/** The outer signatureAlgorithm OID of the certificate. */
function signatureOid(cert: x509.X509Certificate): string | undefined {
  try {
    const b = new Uint8Array(cert.rawData);
    const outer = tlv(b, 0);
    const tbs = tlv(b, outer.start);
    const sigAlg = tlv(b, tbs.next);
    return oid(b, tlv(b, sigAlg.start));
  } catch {
    return undefined;
  }
}
