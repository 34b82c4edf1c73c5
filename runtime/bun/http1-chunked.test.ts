// Unit tests for the incremental chunked decoder: byte-by-byte feeding, extensions, trailers and the refusals.
// Also round-trips the encoder through the decoder.

import { describe, expect, test } from "bun:test";
import { ChunkedDecodeError, ChunkedDecoder, encodeChunk, LAST_CHUNK } from "./http1-chunked.ts";

const enc = (s: string): Uint8Array => Buffer.from(s, "latin1");
const text = (chunks: Uint8Array[]): string => Buffer.concat(chunks).toString("latin1");

function decodeAll(input: string, step = input.length): { body: string; end: number; done: boolean } {
  const d = new ChunkedDecoder();
  const bytes = enc(input);
  const out: Uint8Array[] = [];
  let end = 0;
  let done = false;
  for (let i = 0; i < bytes.length && !done; i += step) {
    const slice = bytes.subarray(i, Math.min(i + step, bytes.length));
    const r = d.push(slice);
    out.push(...r.chunks.map((c) => c.slice()));
    end = i + r.end;
    done = r.done;
  }
  return { body: text(out), end, done };
}

describe("ChunkedDecoder", () => {
  test("decodes a body and stops exactly at its end", () => {
    const wire = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nGET /next";
    const r = decodeAll(wire);
    expect(r).toEqual({ body: "hello world", end: wire.indexOf("GET"), done: true });
  });
  test("same result when fed one byte at a time", () => {
    const r = decodeAll("5\r\nhello\r\nA\r\n0123456789\r\n0\r\n\r\n", 1);
    expect(r.body).toBe("hello0123456789");
    expect(r.done).toBe(true);
  });
  test("accepts extensions and drops trailers", () => {
    expect(decodeAll('3;name=val;q="x y"\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n').body).toBe("abc");
  });
  test("not done until the final CRLF", () => {
    expect(decodeAll("3\r\nabc\r\n0\r\n").done).toBe(false);
  });
  const refusals: Array<[string, string]> = [
    ["bad hex", "z\r\nabc\r\n0\r\n\r\n"],
    ["negative size", "-3\r\nabc\r\n0\r\n\r\n"],
    ["size with spaces", "3 \r\nabc\r\n0\r\n\r\n"],
    ["0x prefix", "0x3\r\nabc\r\n0\r\n\r\n"],
    ["huge size", "fffffffffffff\r\n"],
    ["missing CRLF after data", "3\r\nabcX\r\n0\r\n\r\n"],
    ["bare LF line ending", "3\nabc\r\n0\r\n\r\n"],
    ["bare CR inside size line", "3\r4\r\nabc\r\n"],
    ["bad extension", "3;=x\r\nabc\r\n0\r\n\r\n"],
    ["folded trailer", "0\r\nX: a\r\n b\r\n\r\n"],
    ["malformed trailer", "0\r\nnot a trailer\r\n\r\n"],
    ["over-long size line", "1" + ";a".repeat(3000) + "\r\n"],
    // Found by the differential test against llhttp:
    ["whitespace inside an extension", "3;a b\r\nabc\r\n0\r\n\r\n"],
    ["a tab after an extension", "3;a\t\r\nabc\r\n0\r\n\r\n"],
    ["Content-Length as a trailer", "0\r\nContent-Length: 5\r\n\r\n"],
    ["Transfer-Encoding as a trailer", "0\r\nTransfer-Encoding: chunked\r\n\r\n"],
    ["a control character in a trailer value", "0\r\nX: a\x01\r\n\r\n"],
  ];
  for (const [name, wire] of refusals) {
    test(`refuses ${name}`, () => {
      expect(() => decodeAll(wire)).toThrow(ChunkedDecodeError);
    });
  }
  test("encoder output decodes back", () => {
    const parts = [enc("a"), new Uint8Array(300).fill(0x41), enc("tail")];
    const wire = Buffer.concat([...parts.map(encodeChunk), LAST_CHUNK]).toString("latin1");
    expect(wire.startsWith("1\r\na\r\n12c\r\n")).toBe(true);
    expect(decodeAll(wire, 7).body).toBe("a" + "A".repeat(300) + "tail");
  });
});
