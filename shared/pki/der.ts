// A strict DER reader for the few certificate fields members need (certificate.ts), so a sidecar never loads
// @peculiar/x509 and its ASN.1 schema machinery (about 19 MB resident). Anything malformed throws: callers fail closed.

/** One element: its tag byte, where its encoding begins (`at`), and where its contents start and end in the buffer. */
export type Tlv = { readonly tag: number; readonly at: number; readonly start: number; readonly end: number };

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

export class DerError extends Error {
  override readonly name = "DerError";
}

/** The element at `at`, which must end by `limit`. Definite, minimally encoded lengths only (DER); single-byte tags. */
export function readTlv(b: Uint8Array, at = 0, limit = b.length): Tlv {
  if (at + 2 > limit) throw new DerError("truncated element");
  const tag = b[at]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError("multi-byte tags are not used in certificates");
  let len = b[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw new DerError("indefinite length is not DER");
    if (n > 4) throw new DerError("length too large");
    if (start + n > limit) throw new DerError("truncated length");
    if (b[start] === 0) throw new DerError("length not minimally encoded");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[start + i]!;
    if (len < 0x80) throw new DerError("length not minimally encoded");
    start += n;
  }
  const end = start + len;
  if (end > limit) throw new DerError("element runs past its container");
  return { tag, at, start, end };
}

/** `readTlv` that also insists on the tag. */
export function expectTlv(b: Uint8Array, at: number, tag: number, limit = b.length): Tlv {
  const t = readTlv(b, at, limit);
  if (t.tag !== tag) throw new DerError(`expected tag 0x${tag.toString(16)}, found 0x${t.tag.toString(16)}`);
  return t;
}

/** The elements directly inside a constructed element, which must fill it exactly. */
export function children(b: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let at = parent.start;
  while (at < parent.end) {
    const t = readTlv(b, at, parent.end);
    out.push(t);
    at = t.end;
  }
  return out;
}

/** The whole encoding of an element (tag and length included), e.g. for hashing or comparing names. */
export function encodingOf(b: Uint8Array, t: Tlv): Uint8Array {
  return b.subarray(t.at, t.end);
}

export function decodeOid(b: Uint8Array, t: Tlv): string {
  if (t.tag !== TAG.OID || t.end === t.start) throw new DerError("not an OBJECT IDENTIFIER");
  if ((b[t.end - 1]! & 0x80) !== 0) throw new DerError("truncated OBJECT IDENTIFIER");
  const out: number[] = [];
  let v = 0;
  let first = true;
  for (let i = t.start; i < t.end; i++) {
    const byte = b[i]!;
    if (v === 0 && byte === 0x80) throw new DerError("OBJECT IDENTIFIER arc not minimally encoded");
    v = v * 128 + (byte & 0x7f);
    if (v > Number.MAX_SAFE_INTEGER / 128) throw new DerError("OBJECT IDENTIFIER arc too large");
    if ((byte & 0x80) === 0) {
      if (first) out.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else out.push(v);
      first = false;
      v = 0;
    }
  }
  return out.join(".");
}

/** BOOLEAN: DER says 0xff for true; any other non-zero byte is read as true too (the cautious reading for a CA flag). */
export function decodeBoolean(b: Uint8Array, t: Tlv): boolean {
  if (t.tag !== TAG.BOOLEAN || t.end - t.start !== 1) throw new DerError("not a BOOLEAN");
  return b[t.start] !== 0;
}

/** BIT STRING contents without the unused-bits byte, and how many trailing bits of the last byte are unused. */
export function decodeBitString(b: Uint8Array, t: Tlv): { bytes: Uint8Array; unused: number } {
  if (t.tag !== TAG.BIT_STRING || t.end === t.start) throw new DerError("not a BIT STRING");
  const unused = b[t.start]!;
  if (unused > 7 || (unused > 0 && t.end - t.start === 1)) throw new DerError("bad BIT STRING padding");
  return { bytes: b.subarray(t.start + 1, t.end), unused };
}

/** An INTEGER's magnitude bytes without sign padding (for RSA moduli and ECDSA r and s); negative values throw. */
export function unsignedIntegerBytes(b: Uint8Array, t: Tlv): Uint8Array {
  if (t.tag !== TAG.INTEGER || t.end === t.start) throw new DerError("not an INTEGER");
  if ((b[t.start]! & 0x80) !== 0) throw new DerError("negative INTEGER");
  let first = t.start;
  while (first < t.end - 1 && b[first] === 0) first++;
  return b.subarray(first, t.end);
}

/**
 * UTCTime (YYMMDDHHMMSSZ, years 1950-2049) or GeneralizedTime (YYYYMMDDHHMMSSZ), the only forms RFC 5280 allows.
 */
export function decodeTime(b: Uint8Array, t: Tlv): Date {
  const s = String.fromCharCode(...b.subarray(t.start, t.end));
  const m = t.tag === TAG.UTC_TIME ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s) : t.tag === TAG.GENERALIZED_TIME ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s) : null;
  if (m === null) throw new DerError(`unsupported time ${JSON.stringify(s)}`);
  let year = Number(m[1]);
  if (t.tag === TAG.UTC_TIME) year += year < 50 ? 2000 : 1900;
  const [mo, d, h, mi, se] = [Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])];
  const back = new Date(0);
  back.setUTCFullYear(year, mo - 1, d); // not Date.UTC: it maps years below 100 to 19xx
  back.setUTCHours(h, mi, se, 0);
  // Out-of-range fields roll over (31 February becomes March); a certificate that says so is malformed.
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || se > 59) throw new DerError(`invalid time ${s}`);
  return back;
}
