// A read-only view of an X.509 certificate from its DER: validity, names, public key and the extensions the X509-SVID
// rules and the trust bundle logic look at. Members use it instead of @peculiar/x509; the CA still builds with that.
import { children, decodeBitString, decodeBoolean, decodeOid, decodeTime, DerError, encodingOf, expectTlv, TAG, unsignedIntegerBytes, type Tlv } from "./der.ts";

export const OID = {
  SUBJECT_ALT_NAME: "2.5.29.17",
  BASIC_CONSTRAINTS: "2.5.29.19",
  KEY_USAGE: "2.5.29.15",
  EXT_KEY_USAGE: "2.5.29.37",
  EC_PUBLIC_KEY: "1.2.840.10045.2.1",
  RSA: "1.2.840.113549.1.1.1",
} as const;

/** SubjectPublicKeyInfo: its whole encoding (what WebCrypto imports as "spki"), algorithm, curve and RSA size. */
export type PublicKeyView = { readonly spki: Uint8Array; readonly algorithm: string; readonly parameter: string | undefined; readonly rsaBits: number | undefined };

export type Extension = { readonly critical: boolean; readonly value: Uint8Array };

export type CertificateView = {
  readonly der: Uint8Array;
  /** The signed part, as encoded (signature checks run over these bytes). */
  readonly tbs: Uint8Array;
  /** The outer signatureAlgorithm OID. */
  readonly signatureAlgorithm: string;
  /** The signature BIT STRING's bytes. */
  readonly signature: Uint8Array;
  /** Encoded Names, compared byte for byte. */
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: PublicKeyView;
  /** By OID; a certificate naming one extension twice does not parse (RFC 5280 4.2). */
  readonly extensions: ReadonlyMap<string, Extension>;
};

/** Throws (DerError) on anything that is not one well-formed certificate filling `der` exactly. */
export function parseCertificate(der: Uint8Array): CertificateView {
  const outer = expectTlv(der, 0, TAG.SEQUENCE);
  if (outer.end !== der.length) throw new DerError("trailing bytes after the certificate");
  const [tbsT, sigAlgT, sigT, ...rest] = children(der, outer);
  if (tbsT === undefined || sigAlgT === undefined || sigT === undefined || rest.length > 0) throw new DerError("a certificate has three parts");
  const tbs = fields(der, tbsT);
  return {
    der,
    tbs: encodingOf(der, tbsT),
    signatureAlgorithm: algorithmOid(der, sigAlgT),
    signature: decodeBitString(der, sigT).bytes,
    ...tbs,
  };
}

function algorithmOid(b: Uint8Array, t: Tlv): string {
  if (t.tag !== TAG.SEQUENCE) throw new DerError("AlgorithmIdentifier is a SEQUENCE");
  const parts = children(b, t);
  if (parts.length < 1 || parts.length > 2) throw new DerError("AlgorithmIdentifier has an OID and at most one parameter");
  return decodeOid(b, parts[0]!);
}

type TbsFields = Omit<CertificateView, "der" | "tbs" | "signatureAlgorithm" | "signature">;

function fields(b: Uint8Array, tbsT: Tlv): TbsFields {
  if (tbsT.tag !== TAG.SEQUENCE) throw new DerError("tbsCertificate is a SEQUENCE");
  const parts = children(b, tbsT);
  let i = 0;
  if (parts[i]?.tag === 0xa0) i++; // [0] version: extensions are read whatever it says, as @peculiar/x509 does
  const need = (tag: number): Tlv => {
    const t = parts[i++];
    if (t === undefined || t.tag !== tag) throw new DerError("tbsCertificate is missing a field");
    return t;
  };
  // The serial's value matters to no rule here (and some CAs issue negative ones); only its shape is checked.
  const serial = need(TAG.INTEGER);
  if (serial.start === serial.end) throw new DerError("empty serial number");
  algorithmOid(b, need(TAG.SEQUENCE));
  const issuer = need(TAG.SEQUENCE);
  const validity = children(b, need(TAG.SEQUENCE));
  if (validity.length !== 2) throw new DerError("validity has two times");
  const subject = need(TAG.SEQUENCE);
  const publicKey = readPublicKey(b, need(TAG.SEQUENCE));
  // issuerUniqueID [1] and subjectUniqueID [2] (primitive or constructed) are skipped; [3] holds the extensions.
  while (parts[i] !== undefined && [0x81, 0xa1, 0x82, 0xa2].includes(parts[i]!.tag)) i++;
  let extensions = new Map<string, Extension>();
  if (parts[i]?.tag === 0xa3) {
    const inner = children(b, parts[i++]!);
    if (inner.length !== 1 || inner[0]!.tag !== TAG.SEQUENCE) throw new DerError("extensions are one SEQUENCE");
    extensions = readExtensions(b, inner[0]!);
  }
  if (i !== parts.length) throw new DerError("unexpected field at the end of tbsCertificate");
  return {
    issuer: encodingOf(b, issuer),
    subject: encodingOf(b, subject),
    notBefore: decodeTime(b, validity[0]!),
    notAfter: decodeTime(b, validity[1]!),
    publicKey,
    extensions,
  };
}

function readPublicKey(b: Uint8Array, t: Tlv): PublicKeyView {
  const parts = children(b, t);
  if (parts.length !== 2 || parts[0]!.tag !== TAG.SEQUENCE) throw new DerError("SubjectPublicKeyInfo has an algorithm and a key");
  const alg = children(b, parts[0]!);
  if (alg.length < 1 || alg.length > 2) throw new DerError("bad key AlgorithmIdentifier");
  const algorithm = decodeOid(b, alg[0]!);
  const parameter = alg[1]?.tag === TAG.OID ? decodeOid(b, alg[1]) : undefined;
  const key = decodeBitString(b, parts[1]!);
  let rsaBits: number | undefined;
  if (algorithm === OID.RSA) {
    // RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }, inside the BIT STRING.
    const rsa = expectTlv(key.bytes, 0, TAG.SEQUENCE);
    const modulus = unsignedIntegerBytes(key.bytes, expectTlv(key.bytes, rsa.start, TAG.INTEGER, rsa.end));
    rsaBits = modulus[0] === 0 ? 0 : modulus.length * 8 - (Math.clz32(modulus[0]!) - 24);
  }
  return { spki: encodingOf(b, t), algorithm, parameter, rsaBits };
}

function readExtensions(b: Uint8Array, seq: Tlv): Map<string, Extension> {
  const out = new Map<string, Extension>();
  for (const e of children(b, seq)) {
    if (e.tag !== TAG.SEQUENCE) throw new DerError("an extension is a SEQUENCE");
    const parts = children(b, e);
    if (parts.length < 2 || parts.length > 3) throw new DerError("an extension has an OID, a critical flag and a value");
    const oid = decodeOid(b, parts[0]!);
    const critical = parts.length === 3 ? decodeBoolean(b, parts[1]!) : false;
    const value = parts[parts.length - 1]!;
    if (value.tag !== TAG.OCTET_STRING) throw new DerError(`extension ${oid} is malformed`);
    if (out.has(oid)) throw new DerError(`extension ${oid} appears twice`);
    out.set(oid, { critical, value: b.subarray(value.start, value.end) });
  }
  return out;
}

/** An extension's value: one element of `tag`, nothing after it. */
function whole(v: Uint8Array, tag: number): Tlv {
  const t = expectTlv(v, 0, tag);
  if (t.end !== v.length) throw new DerError("trailing bytes in an extension value");
  return t;
}

// otherName [0], x400Address [3], directoryName [4], ediPartyName [5] are constructed; rfc822Name [1], dNSName [2],
// uniformResourceIdentifier [6], iPAddress [7], registeredID [8] primitive (RFC 5280 4.2.1.6).
const GENERAL_NAME_TAGS = new Set([0xa0, 0x81, 0x82, 0xa3, 0xa4, 0xa5, 0x86, 0x87, 0x88]);

/** The URI entries of the subjectAltName extension, in order; [] without one. Every GeneralName is checked for shape. */
export function uriSans(cert: CertificateView): string[] {
  const ext = cert.extensions.get(OID.SUBJECT_ALT_NAME);
  if (ext === undefined) return [];
  const v = ext.value;
  const uris: string[] = [];
  for (const name of children(v, whole(v, TAG.SEQUENCE))) {
    // GeneralName is a CHOICE [0]..[8], each either primitive or constructed by its type; anything else is not a name,
    // and a SAN that holds one is refused whole (the TLS stack does not read such a SAN either).
    if (!GENERAL_NAME_TAGS.has(name.tag)) throw new DerError(`bad GeneralName tag 0x${name.tag.toString(16)}`);
    if ((name.tag & 0x20) !== 0) children(v, name);
    // uniformResourceIdentifier [6] IA5String; bytes >= 0x80 stay visible as such and fail any SPIFFE id check.
    if (name.tag === 0x86) uris.push(String.fromCharCode(...v.subarray(name.start, name.end)));
  }
  return uris;
}

/** basicConstraints' cA flag; undefined when the extension is absent. */
export function basicConstraintsCa(cert: CertificateView): boolean | undefined {
  const ext = cert.extensions.get(OID.BASIC_CONSTRAINTS);
  if (ext === undefined) return undefined;
  const parts = children(ext.value, whole(ext.value, TAG.SEQUENCE));
  return parts[0]?.tag === TAG.BOOLEAN ? decodeBoolean(ext.value, parts[0]) : false;
}

/** Key usage bits as flags (bit n of the BIT STRING = 1 << n: digitalSignature 1, keyCertSign 32, cRLSign 64); undefined when absent. */
export function keyUsageFlags(cert: CertificateView): number | undefined {
  const ext = cert.extensions.get(OID.KEY_USAGE);
  if (ext === undefined) return undefined;
  const { bytes } = decodeBitString(ext.value, whole(ext.value, TAG.BIT_STRING));
  let flags = 0;
  for (let bit = 0; bit < Math.min(bytes.length * 8, 16); bit++) if ((bytes[bit >> 3]! & (0x80 >> (bit & 7))) !== 0) flags |= 1 << bit;
  return flags;
}

/** The extendedKeyUsage OIDs; undefined when the extension is absent. */
export function extendedKeyUsages(cert: CertificateView): string[] | undefined {
  const ext = cert.extensions.get(OID.EXT_KEY_USAGE);
  if (ext === undefined) return undefined;
  return children(ext.value, whole(ext.value, TAG.SEQUENCE)).map((t) => decodeOid(ext.value, t));
}
