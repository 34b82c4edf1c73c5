// Unit tests for the strict HTTP/1.1 head parser: the smuggling-relevant refusals and the normal shapes.
// Each refusal case is one a lenient parser would accept, so each one matters.

import { describe, expect, test } from "bun:test";
import { isHeadError, parseRequestHead, parseResponseHead, type RequestHead, type ResponseHead } from "./http1-head.ts";

const req = (lines: string[]): ReturnType<typeof parseRequestHead> => parseRequestHead(lines.join("\r\n"));
function ok(lines: string[]): RequestHead {
  const r = req(lines);
  if (isHeadError(r)) throw new Error(`unexpected error: ${r.reason}`);
  return r;
}
function bad(lines: string[], status: number = 400): string {
  const r = req(lines);
  if (!isHeadError(r)) throw new Error(`accepted: ${JSON.stringify(lines)}`);
  expect(r.status as number).toBe(status);
  return r.reason;
}

describe("parseRequestHead accepts", () => {
  test("a simple GET with lower-cased names and trimmed values", () => {
    const h = ok(["GET /a/b?x=1 HTTP/1.1", "Host: svc.local:8080", "X-Thing:   v a l  ", "accept: */*"]);
    expect(h.method).toBe("GET");
    expect(h.target).toBe("/a/b?x=1");
    expect(h.version).toBe("1.1");
    expect(h.host).toBe("svc.local:8080");
    expect(h.fields).toEqual([["host", "svc.local:8080"], ["x-thing", "v a l"], ["accept", "*/*"]]);
    expect(h.framing).toEqual({ kind: "none" });
    expect(h.keepAlive).toBe(true);
  });
  test("Content-Length framing, zero length is no body", () => {
    expect(ok(["POST / HTTP/1.1", "Host: a", "Content-Length: 42"]).framing).toEqual({ kind: "length", length: 42 });
    expect(ok(["POST / HTTP/1.1", "Host: a", "Content-Length: 0"]).framing).toEqual({ kind: "none" });
  });
  test("chunked framing (case-insensitive)", () => {
    expect(ok(["POST / HTTP/1.1", "Host: a", "Transfer-Encoding: Chunked"]).framing).toEqual({ kind: "chunked" });
  });
  test("keep-alive rules for 1.0 and 1.1 and Connection tokens", () => {
    expect(ok(["GET / HTTP/1.1", "Host: a", "Connection: close"]).keepAlive).toBe(false);
    expect(ok(["GET / HTTP/1.0"]).keepAlive).toBe(false);
    expect(ok(["GET / HTTP/1.0", "Connection: Keep-Alive"]).keepAlive).toBe(true);
    expect([...(ok(["GET / HTTP/1.1", "Host: a", "Connection: X-Foo, close"]).connection ?? [])]).toEqual(["x-foo", "close"]);
  });
  test("HTTP/1.0 without Host", () => {
    expect(ok(["GET / HTTP/1.0"]).host).toBe("");
  });
  test("Expect: 100-continue is noted", () => {
    expect(ok(["PUT / HTTP/1.1", "Host: a", "Content-Length: 5", "Expect: 100-continue"]).expectContinue).toBe(true);
  });
  test("absolute-form (forward-proxy clients) when its authority matches Host", () => {
    const h = ok(["GET http://Echo:8080/a?x=1 HTTP/1.1", "Host: echo:8080"]);
    expect(h.target).toBe("/a?x=1");
    expect(ok(["GET http://echo HTTP/1.1", "Host: echo"]).target).toBe("/");
    expect(ok(["GET https://echo?q HTTP/1.1", "Host: echo"]).target).toBe("/?q");
  });
  test("OPTIONS * and obs-text in values", () => {
    expect(ok(["OPTIONS * HTTP/1.1", "Host: a"]).target).toBe("*");
    expect(ok(["GET / HTTP/1.1", "Host: a", "X: caf\xe9"]).fields[1]).toEqual(["x", "caf\xe9"]);
  });
});

describe("parseRequestHead refuses", () => {
  test("Content-Length together with Transfer-Encoding", () => {
    expect(bad(["POST / HTTP/1.1", "Host: a", "Content-Length: 3", "Transfer-Encoding: chunked"])).toContain("both");
    expect(bad(["POST / HTTP/1.1", "Host: a", "Transfer-Encoding: chunked", "Content-Length: 3"])).toContain("both");
  });
  test("duplicate Content-Length, even with equal values", () => {
    bad(["POST / HTTP/1.1", "Host: a", "Content-Length: 3", "Content-Length: 3"]);
    bad(["POST / HTTP/1.1", "Host: a", "Content-Length: 3, 3"]);
  });
  test("invalid Content-Length values", () => {
    for (const v of ["-1", "+3", "3.0", "0x10", "", "1 2", "9999999999999999"]) bad(["POST / HTTP/1.1", "Host: a", `Content-Length: ${v}`]);
  });
  test("unsupported or duplicated Transfer-Encoding", () => {
    bad(["POST / HTTP/1.1", "Host: a", "Transfer-Encoding: gzip, chunked"], 501);
    bad(["POST / HTTP/1.1", "Host: a", "Transfer-Encoding: identity"], 501);
    bad(["POST / HTTP/1.1", "Host: a", "Transfer-Encoding: chunked", "Transfer-Encoding: chunked"]);
    bad(["POST / HTTP/1.0", "Transfer-Encoding: chunked"]);
  });
  test("obs-fold continuation lines", () => {
    expect(bad(["GET / HTTP/1.1", "Host: a", "X-A: one", " two"])).toContain("folding");
    bad(["GET / HTTP/1.1", "Host: a", "X-A: one", "\ttwo"]);
  });
  test("bare CR, bare LF and NUL anywhere in the head", () => {
    bad(["GET / HTTP/1.1", "Host: a", "X-A: o\rne"]);
    bad(["GET / HTTP/1.1", "Host: a", "X-A: o\nne"]);
    bad(["GET / HTTP/1.1", "Host: a", "X-A: o\0ne"]);
    bad(["GET / HTTP/1.1\nHost: a"]);
    bad(["GET / HTTP/1.1", "Ho\0st: a"]);
  });
  test("invalid header names, whitespace before the colon, missing colon", () => {
    bad(["GET / HTTP/1.1", "Host: a", "Bad Name: x"]);
    bad(["GET / HTTP/1.1", "Host: a", "Content-Length : 5"]);
    bad(["GET / HTTP/1.1", "Host: a", "NoColon"]);
    bad(["GET / HTTP/1.1", "Host: a", ": empty-name"]);
    bad(["GET / HTTP/1.1", "Host: a", "X(y): 1"]);
  });
  test("only SP and HTAB count as whitespace around values (found by the differential test)", () => {
    bad(["POST / HTTP/1.1", "Host: a", "Transfer-Encoding: \x0bchunked"]);
    bad(["POST / HTTP/1.1", "Host: a", "Content-Length: 5\x0c"]);
    expect(ok(["GET / HTTP/1.1", "Host: a", "X: v\xa0"]).fields[1]).toEqual(["x", "v\xa0"]);
    bad(["GET / HTTP/1.1", "Host: a\xa0"]);
  });
  test("a trailing tab on a framing field", () => {
    bad(["POST / HTTP/1.1", "Host: a", "Transfer-Encoding: chunked\t"]);
    bad(["POST / HTTP/1.1", "Host: a", "Content-Length: 5\t"]);
  });
  test("control characters in values", () => {
    bad(["GET / HTTP/1.1", "Host: a", "X: a\x01b"]);
    bad(["GET / HTTP/1.1", "Host: a", "X: a\x7fb"]);
  });
  test("malformed request lines and targets", () => {
    bad(["GET  / HTTP/1.1", "Host: a"]);
    bad(["GET / HTTP/1.1 ", "Host: a"]);
    bad(["GET /a b HTTP/1.1", "Host: a"]);
    bad(["G@T / HTTP/1.1", "Host: a"]);
    bad(["GET http://evil/ HTTP/1.1", "Host: a"]); // authority and Host disagree
    bad(["GET http://a@evil/ HTTP/1.1", "Host: a@evil"]); // userinfo in the authority
    bad(["GET ftp://a/ HTTP/1.1", "Host: a"]);
    bad(["GET a/b HTTP/1.1", "Host: a"]);
    bad(["GET / HTTP/2.0", "Host: a"], 505);
    bad(["GET / HTTX/1.1", "Host: a"]);
    bad(["CONNECT a:443 HTTP/1.1", "Host: a"], 501);
  });
  test("methods that are not upper-case (the Fetch API would silently upper-case them)", () => {
    expect(bad(["get / HTTP/1.1", "Host: a"])).toContain("upper-case");
    bad(["Post / HTTP/1.1", "Host: a"]);
    bad(["pAtCh / HTTP/1.1", "Host: a"]);
  });
  test("missing, duplicate or invalid Host", () => {
    bad(["GET / HTTP/1.1"]);
    bad(["GET / HTTP/1.1", "Host: a", "Host: b"]);
    bad(["GET / HTTP/1.1", "Host: a/b"]);
    bad(["GET / HTTP/1.1", "Host: a@b c"]);
  });
  test("Expect other than 100-continue", () => {
    bad(["GET / HTTP/1.1", "Host: a", "Expect: something"], 417);
  });
});

describe("parseResponseHead", () => {
  const res = (lines: string[], method = "GET"): ResponseHead => {
    const r = parseResponseHead(lines.join("\r\n"), method);
    if (isHeadError(r)) throw new Error(r.reason);
    return r;
  };
  test("status, reason and length framing", () => {
    const r = res(["HTTP/1.1 201 Created", "Content-Length: 7", "X-Y: z"]);
    expect(r.status).toBe(201);
    expect(r.statusText).toBe("Created");
    expect(r.framing).toEqual({ kind: "length", length: 7 });
    expect(r.keepAlive).toBe(true);
  });
  test("no framing header means read until close", () => {
    const r = res(["HTTP/1.1 200 OK"]);
    expect(r.framing).toEqual({ kind: "close" });
    expect(r.keepAlive).toBe(false);
  });
  test("HEAD, 204 and 304 never have a body", () => {
    expect(res(["HTTP/1.1 200 OK", "Content-Length: 100"], "HEAD").framing).toEqual({ kind: "none" });
    expect(res(["HTTP/1.1 204 No Content"]).framing).toEqual({ kind: "none" });
    expect(res(["HTTP/1.1 304 Not Modified", "Content-Length: 5"]).framing).toEqual({ kind: "none" });
  });
  test("empty reason phrase is fine", () => {
    expect(res(["HTTP/1.1 200 ", "Content-Length: 0"]).statusText).toBe("");
  });
  test("refuses smuggling shapes", () => {
    for (const lines of [
      ["HTTP/1.1 200 OK", "Content-Length: 1", "Transfer-Encoding: chunked"],
      ["HTTP/1.1 200 OK", "Content-Length: 1", "Content-Length: 2"],
      ["HTTP/1.1 200 OK", "X: a", " folded"],
      ["HTTP/1.1 20 OK"],
      ["HTTP/1.1 200 OK\nX: y"],
    ]) {
      expect(isHeadError(parseResponseHead(lines.join("\r\n"), "GET"))).toBe(true);
    }
  });
});
