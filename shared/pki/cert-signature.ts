// Whether a certificate was signed by a given public key, with WebCrypto: which root of a bundle issued a chain,
// and whether a root is self-signed. Not a chain validator: TLS does that; this only tells roots apart during rotation.
import { children, expectTlv, TAG, unsignedIntegerBytes } from "./der.ts";
import { OID, type CertificateView, type PublicKeyView } from "./certificate.ts";

const SIGNATURES: Record<string, { kind: "ecdsa" | "rsa"; hash: string }> = {
  "1.2.840.10045.4.1": { kind: "ecdsa", hash: "SHA-1" },
  "1.2.840.10045.4.3.2": { kind: "ecdsa", hash: "SHA-256" },
  "1.2.840.10045.4.3.3": { kind: "ecdsa", hash: "SHA-384" },
  "1.2.840.10045.4.3.4": { kind: "ecdsa", hash: "SHA-512" },
  "1.2.840.113549.1.1.5": { kind: "rsa", hash: "SHA-1" },
  "1.2.840.113549.1.1.11": { kind: "rsa", hash: "SHA-256" },
  "1.2.840.113549.1.1.12": { kind: "rsa", hash: "SHA-384" },
  "1.2.840.113549.1.1.13": { kind: "rsa", hash: "SHA-512" },
};

/** Named curves WebCrypto knows, and the size of one signature half (r or s) on each. */
export const EC_CURVES: Record<string, { name: string; size: number }> = {
  "1.2.840.10045.3.1.7": { name: "P-256", size: 32 },
  "1.3.132.0.34": { name: "P-384", size: 48 },
  "1.3.132.0.35": { name: "P-521", size: 66 },
};

/** X.509 carries ECDSA signatures as DER SEQUENCE { r, s }; WebCrypto wants r and s padded to the curve size, joined. */
export function ecdsaDerToRaw(sig: Uint8Array, size: number): Uint8Array<ArrayBuffer> {
  const seq = expectTlv(sig, 0, TAG.SEQUENCE);
  const parts = children(sig, seq);
  if (seq.end !== sig.length || parts.length !== 2) throw new Error("an ECDSA signature is SEQUENCE { r, s }");
  const out = new Uint8Array(2 * size);
  parts.forEach((p, i) => {
    const v = unsignedIntegerBytes(sig, p);
    if (v.length > size) throw new Error("ECDSA signature value too large for the curve");
    out.set(v, (i + 1) * size - v.length);
  });
  return out;
}

const copy = (b: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(b);

/** True when `key` verifies `cert`'s signature over its tbsCertificate. Unknown algorithms and malformed input: false. */
export async function signedBy(cert: CertificateView, key: PublicKeyView): Promise<boolean> {
  const alg = SIGNATURES[cert.signatureAlgorithm];
  if (alg === undefined) return false;
  try {
    if (alg.kind === "ecdsa") {
      const curve = EC_CURVES[key.parameter ?? ""];
      if (key.algorithm !== OID.EC_PUBLIC_KEY || curve === undefined) return false;
      const k = await crypto.subtle.importKey("spki", copy(key.spki), { name: "ECDSA", namedCurve: curve.name }, false, ["verify"]);
      return await crypto.subtle.verify({ name: "ECDSA", hash: alg.hash }, k, ecdsaDerToRaw(cert.signature, curve.size), copy(cert.tbs));
    }
    if (key.algorithm !== OID.RSA) return false;
    const k = await crypto.subtle.importKey("spki", copy(key.spki), { name: "RSASSA-PKCS1-v1_5", hash: alg.hash }, false, ["verify"]);
    return await crypto.subtle.verify("RSASSA-PKCS1-v1_5", k, copy(cert.signature), copy(cert.tbs));
  } catch {
    return false;
  }
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** Issuer equals subject (byte for byte) and the certificate's own key verifies its signature. */
export async function isSelfSigned(cert: CertificateView): Promise<boolean> {
  return sameBytes(cert.issuer, cert.subject) && (await signedBy(cert, cert.publicKey));
}
