// Differential tests: the request head written as bytes against the string the relay used to build and write as
// latin1, over every framing, lengths either side of each power of ten, and random fields (chars above 0xff too).
import { describe, expect, test } from "bun:test";
import { requestHeadLength, writeRequestHead, type RequestFraming } from "./request-head-bytes.ts";

/** The former head: templates appended to a string, written by Buffer as latin1. */
function asString(method: string, target: string, fields: ReadonlyArray<readonly [string, string]>, f: RequestFraming): Buffer {
  let s = `${method} ${target} HTTP/1.1\r\n`;
  for (const [n, v] of fields) s += `${n}: ${v}\r\n`;
  s += f.kind === "length" ? `content-length: ${f.length}\r\n\r\n` : f.kind === "chunked" ? "transfer-encoding: chunked\r\n\r\n" : "\r\n";
  return Buffer.from(s, "latin1");
}

function asBytes(method: string, target: string, fields: ReadonlyArray<readonly [string, string]>, f: RequestFraming): Buffer {
  const n = requestHeadLength(method, target, fields, f);
  const b = Buffer.alloc(n + 8, 0xee); // room past the end: nothing may be written there
  const written = writeRequestHead(b, method, target, fields, f);
  expect(written).toBe(n);
  expect(b.subarray(n).every((x) => x === 0xee)).toBe(true);
  return b.subarray(0, n);
}

describe("writeRequestHead is the former string head in latin1", () => {
  test("every framing, no fields and a few", () => {
    const sets: Array<ReadonlyArray<readonly [string, string]>> = [[], [["host", "echo"]], [["host", "echo"], ["x-request-id", "r-1"], ["traceparent", "00-ab-cd-01"], ["x-empty", ""]]];
    const framings: RequestFraming[] = [{ kind: "none" }, { kind: "chunked" }, { kind: "length", length: 0 }, { kind: "length", length: 5 }];
    for (const fields of sets) {
      for (const f of framings) expect(asBytes("POST", "/a?b=1", fields, f)).toEqual(asString("POST", "/a?b=1", fields, f));
    }
  });

  test("content-length either side of each power of ten, up to 15 digits", () => {
    for (let p = 1; p <= 1e15; p *= 10) {
      for (const length of [p - 1, p, p + 1]) {
        const f: RequestFraming = { kind: "length", length };
        expect(asBytes("PUT", "/", [], f)).toEqual(asString("PUT", "/", [], f));
      }
    }
  });

  test("random fields, with obs-text and chars past 0xff (their low byte, as latin1 writes them)", () => {
    let seed = 3;
    const next = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const text = (max: number) => Array.from({ length: next(max) }, () => String.fromCharCode(next(5) === 0 ? 0x80 + next(0x300) : 0x21 + next(94))).join("");
    for (let i = 0; i < 2000; i++) {
      const fields = Array.from({ length: next(8) }, () => [text(12) || "x", text(40)] as const);
      const f: RequestFraming = next(2) === 0 ? { kind: "none" } : { kind: "length", length: next(1e6) };
      const target = `/${text(30)}`;
      expect(asBytes("GET", target, fields, f)).toEqual(asString("GET", target, fields, f));
    }
  });
});
