// Unit tests for the prefix rewrite: path joining without "//", query kept, request otherwise untouched,
// and requests that do not carry the prefix passed on unchanged.
import { describe, expect, test } from "bun:test";
import { prefixRewriteFilter, rewritePrefix } from "./rewrite.ts";
import { chunkedStream, makeContext } from "../../test/support/filter-context.ts";

describe("rewritePrefix", () => {
  test("strip to root without producing '//'", () => {
    expect(rewritePrefix("/echo/x", "/echo", "/")).toBe("/x");
    expect(rewritePrefix("/echo", "/echo", "/")).toBe("/");
    expect(rewritePrefix("/echo/", "/echo", "/")).toBe("/");
    expect(rewritePrefix("/echo/x/y", "/echo/", "/")).toBe("/x/y");
  });

  test("replace with another prefix", () => {
    expect(rewritePrefix("/echo/x", "/echo", "/api")).toBe("/api/x");
    expect(rewritePrefix("/echo/x", "/echo", "/api/")).toBe("/api/x");
    expect(rewritePrefix("/echo", "/echo", "/api/v2")).toBe("/api/v2");
    expect(rewritePrefix("/echo/x", "/echo/", "/api/")).toBe("/api/x");
  });

  test("plain string prefix semantics, like the route table", () => {
    expect(rewritePrefix("/echoes", "/echo", "/api")).toBe("/apies");
  });

  test("empty replacement still yields an absolute path", () => {
    expect(rewritePrefix("/echo/x", "/echo", "")).toBe("/x");
    expect(rewritePrefix("/echo", "/echo", "")).toBe("/");
    expect(rewritePrefix("/echox", "/echo", "")).toBe("/x");
  });

  test("no prefix -> undefined", () => {
    expect(rewritePrefix("/other", "/echo", "/")).toBeUndefined();
  });
});

describe("prefixRewriteFilter", () => {
  test("rewrites the path and keeps query, method, headers and streaming body", async () => {
    let got: { url: string; method: string; h: string | null; body: string } | undefined;
    const handler = prefixRewriteFilter("/echo", "/")(async (req) => {
      got = { url: req.url, method: req.method, h: req.headers.get("x-a"), body: await req.text() };
      return new Response(null);
    });
    const req = new Request("http://echo.mesh:8080/echo/x/y?q=1&r=%20", {
      method: "PUT",
      headers: { "x-a": "1" },
      body: chunkedStream(["a", "b"]),
      duplex: "half",
    } as RequestInit);
    await handler(req, makeContext());
    expect(got).toEqual({ url: "http://echo.mesh:8080/x/y?q=1&r=%20", method: "PUT", h: "1", body: "ab" });
  });

  test("keeps percent-encodings of the remainder", async () => {
    let url = "";
    await prefixRewriteFilter("/echo", "/api")(async (req) => {
      url = req.url;
      return new Response(null);
    })(new Request("http://s/echo/caf%C3%A9%3F"), makeContext());
    expect(url).toBe("http://s/api/caf%C3%A9%3F");
  });

  test("a request without the prefix is passed on as the same object", async () => {
    const original = new Request("http://s/other");
    let seen: Request | undefined;
    await prefixRewriteFilter("/echo", "/")(async (req) => {
      seen = req;
      return new Response(null);
    })(original, makeContext());
    expect(seen).toBe(original);
  });
});
