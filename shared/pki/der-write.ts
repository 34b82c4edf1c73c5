// The DER writing a member needs for its certificate request (csr.ts): lengths, SEQUENCE/SET, OIDs and the INTEGERs
// of an ECDSA signature. Deliberately small: everything bigger (certificates) is the CA's job, with @peculiar/x509.
import { TAG } from "./der.ts";

function lengthBytes(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return [0x80 | out.length, ...out];
}

/** One element: tag, minimal length, then the contents in order. */
export function tlv(tag: number, ...contents: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const len = contents.reduce((n, c) => n + c.length, 0);
  const head = [tag, ...lengthBytes(len)];
  const out = new Uint8Array(head.length + len);
  out.set(head, 0);
  let at = head.length;
  for (const c of contents) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export const sequence = (...items: Uint8Array[]): Uint8Array<ArrayBuffer> => tlv(TAG.SEQUENCE, ...items);
export const set = (...items: Uint8Array[]): Uint8Array<ArrayBuffer> => tlv(TAG.SET, ...items);

export function oid(dotted: string): Uint8Array<ArrayBuffer> {
  const arcs = dotted.split(".").map(Number);
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a) || a < 0)) throw new Error(`bad OID ${dotted}`);
  const body: number[] = [];
  for (const arc of [arcs[0]! * 40 + arcs[1]!, ...arcs.slice(2)]) {
    const groups: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) groups.unshift(0x80 | (v & 0x7f));
    body.push(...groups);
  }
  return tlv(TAG.OID, new Uint8Array(body));
}

/** A non-negative INTEGER from big-endian magnitude bytes: leading zeros dropped, a 0x00 added when the top bit is set. */
export function unsignedInteger(magnitude: Uint8Array): Uint8Array<ArrayBuffer> {
  let first = 0;
  while (first < magnitude.length - 1 && magnitude[first] === 0) first++;
  const v = magnitude.subarray(first);
  return v.length === 0 || (v[0]! & 0x80) !== 0 ? tlv(TAG.INTEGER, new Uint8Array([0]), v) : tlv(TAG.INTEGER, v);
}

/** A BIT STRING holding whole bytes (no unused bits). */
export const bitString = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => tlv(TAG.BIT_STRING, new Uint8Array([0]), bytes);

/** WebCrypto's ECDSA signature (r then s, equal halves) as X.509 and PKCS#10 carry it: SEQUENCE { r, s }. */
export function ecdsaRawToDer(raw: Uint8Array): Uint8Array<ArrayBuffer> {
  const half = raw.length / 2;
  if (!Number.isInteger(half) || half === 0) throw new Error("an ECDSA signature has two equal halves");
  return sequence(unsignedInteger(raw.subarray(0, half)), unsignedInteger(raw.subarray(half)));
}
