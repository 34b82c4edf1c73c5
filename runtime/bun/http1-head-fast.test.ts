// The fast head reader against the strict parser: whatever the fast one accepts, the strict one accepts identically,
// on the hostile request corpus of the differential test and on damaged response heads; and the common shapes stay fast.

import { describe, expect, test } from "bun:test";
import { fastRequestHead, fastResponseHead } from "./http1-head-fast.ts";
import { isHeadError, strictRequestHead, strictResponseHead } from "./http1-head.ts";
import { damageText, generateCases, mulberry32 } from "../../test/support/http1-fuzz-cases.ts";

/** Sets compare as sorted arrays; everything else as is. */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_k, x) => (x instanceof Set ? [...x].sort() : x)));

function headOf(stream: string): string {
  const end = stream.indexOf("\r\n\r\n");
  return end < 0 ? stream : stream.slice(0, end);
}

describe("fastRequestHead", () => {
  test("reads the heads a mesh hop sends", () => {
    const hop = [
      "GET /a/b?x=1 HTTP/1.1",
      "host: upstream",
      "x-request-id: 0b6f1a52-3f8d-4c1e-9a6b-2f7d1c9e8a41",
      "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
      "X-Forwarded-Proto: http",
      "Content-Length: 5",
      "Connection: keep-alive, X-Extra",
    ].join("\r\n");
    const h = fastRequestHead(hop);
    expect(h).toBeDefined();
    expect(plain(h)).toEqual(plain(strictRequestHead(hop)));
    expect(h!.fields[3]).toEqual(["x-forwarded-proto", "http"]);
    expect(fastRequestHead("GET / HTTP/1.1\r\nHost: upstream")).toBeDefined();
    expect(fastRequestHead("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked")!.framing).toEqual({ kind: "chunked" });
  });

  test("hands unusual shapes to the strict parser", () => {
    for (const text of [
      "GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue",
      "get / HTTP/1.1\r\nHost: a",
      "GET http://a/ HTTP/1.1\r\nHost: a",
      "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\t",
      "GET / HTTP/1.1\r\nHost: a\r\n folded",
      "GET / HTTP/1.0\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nX: caf\xe9\x7f",
    ]) {
      expect(fastRequestHead(text)).toBeUndefined();
    }
  });

  test("agrees with the strict parser on 4000 hostile request streams", () => {
    let fast = 0;
    for (const c of generateCases(0x5eed_4711, 4000)) {
      const text = headOf(c.text);
      const f = fastRequestHead(text);
      if (f === undefined) continue;
      fast++;
      const s = strictRequestHead(text);
      if (isHeadError(s)) throw new Error(`fast accepted what strict refuses (${s.reason}): ${c.label} ${JSON.stringify(text)}`);
      expect(plain(f)).toEqual(plain(s));
    }
    // The corpus is mostly hostile, but its untouched seeds must take the fast path.
    expect(fast).toBeGreaterThan(100);
  });
});

const RESPONSES = [
  "HTTP/1.1 200 OK\r\ncontent-type: application/json;charset=utf-8\r\nDate: Fri, 27 Nov 2026 21:25:16 GMT\r\nContent-Length: 11",
  "HTTP/1.1 204 No Content\r\nDate: x",
  "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0",
  "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\nConnection: close",
  "HTTP/1.1 200\r\nX-A: b",
  "HTTP/1.1 301 Moved\r\nLocation: /x\r\nContent-Length: 3\r\nSet-Cookie: a=b",
];
const DAMAGE = ["\r", "\n", "\r\n", "\t", " ", ":", "\0", "\x01", "\x7f", "\xa0", "\xff", "A", ",", "0", "Content-Length: 4\r\n", "Transfer-Encoding: chunked\r\n", "Connection: close\r\n", "\u0100"];

describe("fastResponseHead", () => {
  test("reads ordinary response heads exactly as the strict parser does", () => {
    for (const text of RESPONSES) {
      for (const method of ["GET", "HEAD"]) {
        const f = fastResponseHead(text, method);
        expect(f).toBeDefined();
        expect(plain(f)).toEqual(plain(strictResponseHead(text, method)));
      }
    }
  });

  test("agrees with the strict parser on 20000 damaged response heads", () => {
    const rnd = mulberry32(0x0bad_cafe);
    const int = (n: number): number => Math.floor(rnd() * n);
    let fast = 0;
    for (let n = 0; n < 20000; n++) {
      const text = damageText(RESPONSES[int(RESPONSES.length)]!, rnd, DAMAGE);
      const f = fastResponseHead(text, "GET");
      if (f === undefined) continue;
      fast++;
      const s = strictResponseHead(text, "GET");
      if (isHeadError(s)) throw new Error(`fast accepted what strict refuses (${s.reason}): ${JSON.stringify(text)}`);
      expect(plain(f)).toEqual(plain(s));
    }
    expect(fast).toBeGreaterThan(1000);
  });
});
