// Unit tests of the relayed response head (pure): which framing goes downstream for each app framing and caller
// version, when the received bytes pass as they came, and what a rewrite drops, adds and keeps.
import { describe, expect, test } from "bun:test";
import { downstreamHead } from "./relay-response-head.ts";
import { isHeadError, parseResponseHead, type ResponseHead } from "./http1-head.ts";
import type { HeaderEdit } from "../../shared/filters/header-ops.ts";

const ID = "req-1";
const GET11 = { method: "GET", version: "1.1" };
const GET10 = { method: "GET", version: "1.0" };

function parse(text: string, method = "GET"): ResponseHead {
  const h = parseResponseHead(text, method);
  if (isHeadError(h)) throw new Error(h.reason);
  return h;
}

describe("downstreamHead: framing", () => {
  test("a clean length-framed answer passes as received, with our request id appended", () => {
    const d = downstreamHead(parse("HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-type: text/plain"), GET11, true, ID, undefined, true);
    expect(d).toMatchObject({ out: "length", length: 5, declared: 5, keepAlive: true, asReceived: true, text: `\r\nx-request-id: ${ID}\r\n\r\n` });
  });

  test("the app echoing our request id adds nothing; a different one is replaced by a rewrite", () => {
    expect(downstreamHead(parse(`HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-request-id: ${ID}`), GET11, true, ID, undefined, true)).toMatchObject({ asReceived: true, text: "\r\n\r\n" });
    const other = downstreamHead(parse("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-request-id: forged"), GET11, true, ID, undefined, true);
    expect(other.asReceived).toBe(false);
    expect(other.text).toContain(`x-request-id: ${ID}\r\n`);
    expect(other.text).not.toContain("forged");
  });

  test("no body bytes in the same read, or the downstream closing after: rewritten, not passed", () => {
    const head = parse("HTTP/1.1 200 OK\r\ncontent-length: 5");
    expect(downstreamHead(head, GET11, true, ID, undefined, false).asReceived).toBe(false);
    const closing = downstreamHead(head, GET11, false, ID, undefined, true);
    expect(closing.asReceived).toBe(false);
    expect(closing.text.endsWith("connection: close\r\n\r\n")).toBe(true);
  });

  test("chunked passes to HTTP/1.1 callers, is decoded for HTTP/1.0 ones (who learn the end from our close)", () => {
    const head = parse("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked");
    expect(downstreamHead(head, GET11, true, ID, undefined, true)).toMatchObject({ out: "chunked", keepAlive: true, declared: undefined });
    const old = downstreamHead(head, GET10, true, ID, undefined, true);
    expect(old).toMatchObject({ out: "decode", keepAlive: false });
    expect(old.text).not.toContain("transfer-encoding");
    expect(old.text).toContain("connection: close\r\n");
  });

  test("a close-delimited body is chunked for HTTP/1.1 callers, passed raw to HTTP/1.0 ones", () => {
    const head = parse("HTTP/1.1 200 OK\r\nconnection: close");
    const d = downstreamHead(head, GET11, true, ID, undefined, true);
    expect(d).toMatchObject({ out: "encode", keepAlive: true });
    expect(d.text).toContain("transfer-encoding: chunked\r\n");
    expect(d.text).not.toContain("connection: close"); // the app's close is hop-by-hop: our caller's connection stays
    expect(downstreamHead(head, GET10, true, ID, undefined, true)).toMatchObject({ out: "raw", keepAlive: false });
  });

  test("no body: 204 and 304 say nothing, HEAD keeps a valid content-length, other empty answers get length 0", () => {
    expect(downstreamHead(parse("HTTP/1.1 204 No Content"), GET11, true, ID, undefined, false)).toMatchObject({ out: "none", declared: undefined });
    expect(downstreamHead(parse("HTTP/1.1 204 No Content"), GET11, true, ID, undefined, false).text).not.toContain("content-length");
    const head = downstreamHead(parse("HTTP/1.1 200 OK\r\ncontent-length: 42", "HEAD"), { method: "HEAD", version: "1.1" }, true, ID, undefined, false);
    expect(head.out).toBe("none");
    expect(head.text).toContain("content-length: 42\r\n");
  });
});

describe("downstreamHead: fields", () => {
  test("hop-by-hop fields, and those the app's Connection names, are dropped; x-mesh-error is reported as the cause", () => {
    const d = downstreamHead(parse("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: x-secret\r\nx-secret: 1\r\nkeep-alive: timeout=5\r\nx-mesh-error: overflow\r\nx-app: kept"), GET11, true, ID, undefined, true);
    expect(d.asReceived).toBe(false);
    expect(d.cause).toBe("overflow");
    expect(d.text.startsWith("HTTP/1.1 503 Service Unavailable\r\n")).toBe(true);
    expect(d.text).toContain("x-app: kept\r\n");
    for (const gone of ["x-secret", "keep-alive", "connection"]) expect(d.text).not.toContain(gone);
  });

  test("a route's response edit is applied before the head is judged, so an edited head is always rewritten", () => {
    const edit: HeaderEdit = (l) => {
      l.set("x-edited", "yes");
      l.delete("server");
    };
    const d = downstreamHead(parse("HTTP/1.1 200 OK\r\ncontent-length: 0\r\nserver: app"), GET11, true, ID, edit, true);
    expect(d.asReceived).toBe(false);
    expect(d.text).toContain("x-edited: yes\r\n");
    expect(d.text).not.toContain("server");
  });

  test("an HTTP/1.0 caller kept alive is told so", () => {
    const d = downstreamHead(parse("HTTP/1.1 200 OK\r\ncontent-length: 0"), GET10, true, ID, undefined, true);
    expect(d.keepAlive).toBe(true);
    expect(d.text).toContain("connection: keep-alive\r\n");
  });
});
