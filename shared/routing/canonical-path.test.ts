// Unit tests for canonicalizePath: every rejection class, decoding rules, dot-segments and the fast path.
// The canonical path is both routed on and forwarded, so these cases are the path-confusion guard rails.
import { describe, expect, test } from "bun:test";
import { canonicalizePath } from "./canonical-path.ts";

function ok(input: string): string {
  const r = canonicalizePath(input);
  if (!r.ok) throw new Error(`expected ${JSON.stringify(input)} to be accepted, got: ${r.reason}`);
  return r.path;
}

function rejected(input: string): string {
  const r = canonicalizePath(input);
  if (r.ok) throw new Error(`expected ${JSON.stringify(input)} to be rejected, got ${r.path}`);
  return r.reason;
}

describe("fast path", () => {
  test("plain paths come back as the same string", () => {
    for (const p of ["/", "/echo", "/echo/x", "/a-b_c~d.e/f:g@h;i=j", "/api/v1/users/42/"]) {
      const r = canonicalizePath(p);
      expect(r).toEqual({ ok: true, path: p });
      if (r.ok) expect(r.path).toBe(p); // same value; no work done
    }
  });

  test("dots inside segments are not dot-segments", () => {
    expect(ok("/a.b/c..d/e.")).toBe("/a.b/c..d/e.");
    expect(ok("/.well-known/x")).toBe("/.well-known/x");
    expect(ok("/..foo")).toBe("/..foo");
  });

  test("must start with a slash", () => {
    expect(rejected("")).toContain("start with '/'");
    expect(rejected("echo")).toContain("start with '/'");
    expect(rejected("*")).toContain("start with '/'");
  });
});

describe("percent-decoding", () => {
  test("unreserved chars are decoded exactly once", () => {
    expect(ok("/%61%62%63")).toBe("/abc");
    expect(ok("/%41%5a%30%39%2D%2E%5F%7E")).toBe("/AZ09-._~");
    expect(ok("/x%7ey")).toBe("/x~y");
  });

  test("other encodings keep their meaning and get upper-case hex", () => {
    expect(ok("/a%3fb")).toBe("/a%3Fb");
    expect(ok("/caf%c3%a9")).toBe("/caf%C3%A9");
    expect(ok("/a%20b")).toBe("/a%20b");
    expect(ok("/a%3Bb%40c")).toBe("/a%3Bb%40c");
  });

  test("a single encoded percent is kept as %25", () => {
    expect(ok("/100%25")).toBe("/100%25");
    expect(ok("/a%25zz")).toBe("/a%25zz");
    expect(ok("/a%2541")).toBe("/a%2541"); // %25 + "41" = literal "%41" text, not dangerous
  });

  test("raw chars WHATWG URL would encode are encoded, so raw and parsed input agree", () => {
    expect(ok("/a b")).toBe("/a%20b");
    expect(ok("/café")).toBe("/caf%C3%A9");
    expect(ok("/a\"b<c>")).toBe("/a%22b%3Cc%3E");
    expect(ok("/😀")).toBe("/%F0%9F%98%80");
    for (const raw of ["/café x/{y}", "/a^b|c[d]`e\"h<i>", "/x'y!z$&()*+,;=:@"]) {
      expect(ok(new URL("http://h" + raw).pathname)).toBe(ok(raw));
    }
  });

  test("output is stable: canonicalising twice changes nothing", () => {
    for (const p of ["/a/%2e%2e/b", "/caf%c3%a9", "//x//y/", "/a%2541", "/a b/./c"]) {
      const once = ok(p);
      expect(ok(once)).toBe(once);
    }
  });
});

describe("rejections", () => {
  test("encoded slash", () => {
    expect(rejected("/a%2Fb")).toContain("'/'");
    expect(rejected("/a%2fb")).toContain("'/'");
  });

  test("backslash, raw or encoded", () => {
    expect(rejected("/a\\b")).toContain("backslash");
    expect(rejected("/a%5Cb")).toContain("'\\'");
    expect(rejected("/a%5cb")).toContain("'\\'");
  });

  test("NUL and control chars, raw or encoded", () => {
    expect(rejected("/a%00b")).toContain("NUL");
    expect(rejected("/a\u0000b")).toContain("control");
    expect(rejected("/a\nb")).toContain("control");
    expect(rejected("/a\rb")).toContain("control");
    expect(rejected("/a\u007fb")).toContain("control");
    expect(rejected("/a%0Ab")).toContain("control char 0x0a");
    expect(rejected("/a%0d%0aSet-Cookie:x")).toContain("control");
    expect(rejected("/a%7F")).toContain("control");
  });

  test("invalid percent sequences", () => {
    expect(rejected("/a%zz")).toContain("invalid percent-encoding");
    expect(rejected("/a%4")).toContain("invalid percent-encoding");
    expect(rejected("/a%")).toContain("invalid percent-encoding");
    expect(rejected("/a%g1")).toContain("invalid percent-encoding");
  });

  test("double encodings of dangerous chars", () => {
    expect(rejected("/a%252Fb")).toContain("double-encoded '/'");
    expect(rejected("/a%252fb")).toContain("double-encoded '/'");
    expect(rejected("/a%255Cb")).toContain("double-encoded '\\'");
    expect(rejected("/a%2500")).toContain("double-encoded NUL");
    expect(rejected("/%252e%252e/etc")).toContain("double-encoded '.'");
    // %32 and %46 decode to "2" and "F": the result is "%252F" all the same.
    expect(rejected("/a%25%32%46b")).toContain("double-encoded '/'");
  });

  test("lone surrogates", () => {
    expect(rejected("/a\ud800b")).toContain("surrogate");
  });
});

describe("dot-segments (RFC 3986 5.2.4)", () => {
  test("literal dot-segments", () => {
    expect(ok("/a/b/../c")).toBe("/a/c");
    expect(ok("/a/./b")).toBe("/a/b");
    expect(ok("/a/b/..")).toBe("/a/");
    expect(ok("/a/b/.")).toBe("/a/b/");
    expect(ok("/..")).toBe("/");
    expect(ok("/../../etc/passwd")).toBe("/etc/passwd");
    expect(ok("/.")).toBe("/");
  });

  test("encoded dots are dot-segments after decoding", () => {
    expect(ok("/a/%2e%2e/b")).toBe("/b");
    expect(ok("/a/%2E%2E/b")).toBe("/b");
    expect(ok("/a/.%2e/b")).toBe("/b");
    expect(ok("/a/%2e/b")).toBe("/a/b");
    expect(ok("/admin/%2e%2e/public")).toBe("/public");
    expect(ok("/public/%2e%2e/admin")).toBe("/admin");
  });

  test("repeated slashes are merged before dot-segments", () => {
    expect(ok("//a///b")).toBe("/a/b");
    expect(ok("/a//")).toBe("/a/");
    expect(ok("/a//../b")).toBe("/b");
    expect(ok("//")).toBe("/");
  });

  test("trailing slash is preserved", () => {
    expect(ok("/a/b/")).toBe("/a/b/");
    expect(ok("/a/%62/")).toBe("/a/b/");
  });
});
