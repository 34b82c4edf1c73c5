// Unit tests of the DER reader and writer: the encodings DER forbids are refused (indefinite and non-minimal lengths,
// multi-byte tags, elements past their container), and what the writer makes the reader reads back.
import { describe, expect, test } from "bun:test";
import { children, decodeBitString, decodeBoolean, decodeOid, decodeTime, DerError, expectTlv, readTlv, TAG, unsignedIntegerBytes } from "./der.ts";
import { bitString, ecdsaRawToDer, oid, sequence, tlv, unsignedInteger } from "./der-write.ts";
import { ecdsaDerToRaw } from "./cert-signature.ts";

const bytes = (...b: number[]) => new Uint8Array(b);
const ascii = (s: string) => new TextEncoder().encode(s);
const big = (b: Uint8Array) => BigInt(`0x${Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("") || "0"}`);

describe("readTlv", () => {
  test("short and long lengths", () => {
    expect(readTlv(bytes(0x04, 0x02, 1, 2))).toEqual({ tag: 4, at: 0, start: 2, end: 4 });
    const long = new Uint8Array(3 + 200);
    long.set([0x04, 0x81, 200]);
    expect(readTlv(long)).toEqual({ tag: 4, at: 0, start: 3, end: 203 });
    const longer = new Uint8Array(4 + 300);
    longer.set([0x30, 0x82, 0x01, 0x2c]);
    expect(readTlv(longer).end).toBe(304);
  });
  const refusals: Array<[string, Uint8Array]> = [
    ["empty", bytes()],
    ["a lone tag", bytes(0x30)],
    ["indefinite length", bytes(0x30, 0x80, 0, 0)],
    ["a long form for a short length", bytes(0x04, 0x81, 0x05, 1, 2, 3, 4, 5)],
    ["a length with a leading zero byte", bytes(0x04, 0x82, 0x00, 0x80)],
    ["a five-byte length", bytes(0x04, 0x85, 1, 0, 0, 0, 0)],
    ["a multi-byte tag", bytes(0x1f, 0x81, 0x01, 0x00)],
    ["contents past the end", bytes(0x04, 0x05, 1, 2)],
    ["a truncated long length", bytes(0x04, 0x82, 0x01)],
  ];
  for (const [name, b] of refusals) test(`refuses ${name}`, () => expect(() => readTlv(b)).toThrow(DerError));
  test("an element may not run past its container", () => {
    const b = bytes(0x30, 0x03, 0x04, 0x03, 1, 2, 3);
    expect(() => children(b, { tag: 0x30, at: 0, start: 2, end: 5 })).toThrow(DerError);
  });
  test("expectTlv names the wrong tag", () => expect(() => expectTlv(bytes(0x04, 0), 0, TAG.SEQUENCE)).toThrow(/expected tag 0x30/));
});

describe("OIDs", () => {
  const cases = ["2.5.29.17", "1.2.840.113549.1.1.11", "1.3.6.1.4.1.311.21.20", "2.999.1", "0.9.2342.19200300.100.1.1", "1.2.840.10045.3.1.7", "2.16.840.1.101.3.4.2.1"];
  for (const o of cases) test(`${o} round-trips`, () => expect(decodeOid(oid(o), readTlv(oid(o)))).toBe(o));
  test("known encoding of 1.2.840.10045.2.1", () => expect([...oid("1.2.840.10045.2.1")]).toEqual([0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]));
  test("refuses truncated and non-minimal arcs", () => {
    expect(() => decodeOid(bytes(0x06, 0x02, 0x2a, 0x86), readTlv(bytes(0x06, 0x02, 0x2a, 0x86)))).toThrow(DerError);
    expect(() => decodeOid(bytes(0x06, 0x03, 0x2a, 0x80, 0x01), readTlv(bytes(0x06, 0x03, 0x2a, 0x80, 0x01)))).toThrow(DerError);
    expect(() => decodeOid(bytes(0x06, 0x00), readTlv(bytes(0x06, 0x00)))).toThrow(DerError);
  });
});

describe("primitive values", () => {
  test("BOOLEAN: any non-zero byte is true", () => {
    for (const [v, want] of [[0xff, true], [0x01, true], [0x00, false]] as const) expect(decodeBoolean(bytes(1, 1, v), readTlv(bytes(1, 1, v)))).toBe(want);
    expect(() => decodeBoolean(bytes(1, 2, 0, 0), readTlv(bytes(1, 2, 0, 0)))).toThrow(DerError);
  });
  test("BIT STRING padding", () => {
    expect(decodeBitString(bytes(3, 2, 7, 0x80), readTlv(bytes(3, 2, 7, 0x80)))).toEqual({ bytes: bytes(0x80), unused: 7 });
    expect(() => decodeBitString(bytes(3, 1, 1), readTlv(bytes(3, 1, 1)))).toThrow(DerError);
    expect(() => decodeBitString(bytes(3, 2, 8, 0), readTlv(bytes(3, 2, 8, 0)))).toThrow(DerError);
  });
  test("INTEGER magnitudes", () => {
    const b = bytes(2, 3, 0, 0x80, 1);
    expect([...unsignedIntegerBytes(b, readTlv(b))]).toEqual([0x80, 1]);
    expect(() => unsignedIntegerBytes(bytes(2, 1, 0x80), readTlv(bytes(2, 1, 0x80)))).toThrow(/negative/);
    for (const m of [bytes(0), bytes(0x7f), bytes(0x80), bytes(0, 0, 5), bytes(0xff, 0xff)]) {
      const enc = unsignedInteger(m);
      const back = unsignedIntegerBytes(enc, readTlv(enc));
      expect(big(back)).toBe(big(m));
    }
  });
  test("times: UTCTime windows, GeneralizedTime, and refusals", () => {
    const t = (tag: number, s: string) => decodeTime(tlv(tag, ascii(s)), readTlv(tlv(tag, ascii(s))));
    expect(t(TAG.UTC_TIME, "491231235959Z").toISOString()).toBe("2049-12-31T23:59:59.000Z");
    expect(t(TAG.UTC_TIME, "500101000000Z").toISOString()).toBe("1950-01-01T00:00:00.000Z");
    expect(t(TAG.GENERALIZED_TIME, "20500101000000Z").toISOString()).toBe("2050-01-01T00:00:00.000Z");
    expect(t(TAG.GENERALIZED_TIME, "00500101000000Z").getUTCFullYear()).toBe(50);
    for (const [tag, s] of [[TAG.UTC_TIME, "250230000000Z"], [TAG.UTC_TIME, "2501010000Z"], [TAG.UTC_TIME, "250101000000+0100"], [TAG.GENERALIZED_TIME, "20250101000000.5Z"], [TAG.UTC_TIME, "250101240000Z"], [TAG.OCTET_STRING, "250101000000Z"]] as const) {
      expect(() => t(tag, s)).toThrow(DerError);
    }
  });
});

describe("writer", () => {
  test("lengths at the boundaries read back", () => {
    for (const n of [0, 1, 127, 128, 255, 256, 65535, 65536]) {
      const enc = tlv(TAG.OCTET_STRING, new Uint8Array(n));
      const t = readTlv(enc);
      expect(t.end - t.start).toBe(n);
      expect(t.end).toBe(enc.length);
    }
  });
  test("sequences nest", () => {
    const s = sequence(oid("2.5.29.17"), bitString(bytes(1, 2)), sequence());
    expect(children(s, readTlv(s)).map((c) => c.tag)).toEqual([TAG.OID, TAG.BIT_STRING, TAG.SEQUENCE]);
  });
  test("ECDSA signatures convert both ways, high bits and leading zeros included", () => {
    for (const size of [32, 48, 66]) {
      for (let i = 0; i < 50; i++) {
        const raw = crypto.getRandomValues(new Uint8Array(2 * size));
        if (i % 5 === 0) raw.fill(0, 0, 3); // short r
        if (i % 7 === 0) raw[size] = 0xff; // s with its top bit set
        expect([...ecdsaDerToRaw(ecdsaRawToDer(raw), size)]).toEqual([...raw]);
      }
    }
    expect(() => ecdsaDerToRaw(ecdsaRawToDer(new Uint8Array(128).fill(1)), 32)).toThrow(/too large/);
  });
});
