// Unit tests for canonicalizePath: every rejection class, decoding rules, dot-segments and the fast path.
// The canonical path is both routed on and forwarded, so these cases are the path-confusion guard rails.
import { describe, expect, test } from "bun:test";
import { canonicalizePath, isCanonicalPath } from "./canonical-path.ts";

function ok(input: string, search = ""): string {
  const r = canonicalizePath(input, search);
  if (!r.ok) throw new Error(`expected ${JSON.stringify(input)} to be accepted, got: ${r.reason}`);
  return r.path;
}

function rejected(input: string, search = ""): string {
  const r = canonicalizePath(input, search);
  if (r.ok) throw new Error(`expected ${JSON.stringify(input)} to be rejected, got ${r.path}`);
  return r.reason;
}

/** Rejected for empty segments only: returns the slash-merged path a mergeSlashes route may take. */
function mergeable(input: string): string {
  const r = canonicalizePath(input, "");
  if (r.ok || r.merged === undefined) throw new Error(`expected ${JSON.stringify(input)} to be mergeable, got ${JSON.stringify(r)}`);
  expect(r.reason).toContain("empty path segment");
  return r.merged;
}

describe("the four paths from the report", () => {
  test("/echo/..;/admin: a dot-segment before a path parameter", () => {
    expect(rejected("/echo/..;/admin")).toContain("dot-segment");
  });
  test("a raw '#' is refused, not forwarded as %23", () => {
    expect(rejected("/echo#x")).toContain("'#'");
    expect(rejected("/echo", "?q=1#x")).toContain("'#'");
  });
  test("escapes that are not valid UTF-8 are refused, not forwarded as they are", () => {
    expect(rejected("/echo/%c0%ae%c0%ae/admin")).toContain("not valid UTF-8");
    expect(rejected("/echo/%ff")).toContain("not valid UTF-8");
  });
  test("//echo is refused (no silent merge); the merged path is offered for an opted-in route", () => {
    expect(mergeable("//echo")).toBe("/echo");
  });
});

describe("fast path", () => {
  test("plain paths come back as the same string", () => {
    for (const p of ["/", "/echo", "/echo/x", "/a-b_c~d.e/f:g@h;i=j", "/api/v1/users/42/"]) {
      const r = canonicalizePath(p, "");
      expect(r).toEqual({ ok: true, path: p });
      if (r.ok) expect(r.path).toBe(p); // same value; no work done
    }
  });

  test("a query without '#' does not matter", () => {
    expect(ok("/echo", "?a=1&b=/../%2F;x")).toBe("/echo");
  });

  test("dots inside segments are not dot-segments", () => {
    expect(ok("/a.b/c..d/e.")).toBe("/a.b/c..d/e.");
    expect(ok("/.well-known/x")).toBe("/.well-known/x");
    expect(ok("/..foo")).toBe("/..foo");
    expect(ok("/...")).toBe("/...");
    expect(ok("/.x;y")).toBe("/.x;y");
    expect(ok("/..x;y/z")).toBe("/..x;y/z");
  });

  test("isCanonicalPath says yes only where canonicalizePath would hand the path back unchanged", () => {
    const chars = ["/", "a", ".", "%", "2", "F", "#", "?", ";", "~", " ", "\\", "é", "\u0000", "[", "|"];
    let seed = 7;
    const next = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    let yes = 0;
    for (let i = 0; i < 20_000; i++) {
      let p = next(4) === 0 ? "" : "/";
      for (let k = next(9); k > 0; k--) p += chars[next(chars.length)];
      const search = next(3) === 0 ? `?x${chars[next(chars.length)]}` : "";
      if (!isCanonicalPath(p, search)) continue;
      yes++;
      expect(canonicalizePath(p, search)).toEqual({ ok: true, path: p });
    }
    expect(yes).toBeGreaterThan(1000);
    for (const p of ["/", "/echo/x", "/a.b/c..d/e."]) expect(isCanonicalPath(p, "?q=1")).toBe(true);
    // A segment starting with "." takes the slow check even when it is no dot-segment: the answer is the same there.
    expect(isCanonicalPath("/.well-known/x", "")).toBe(false);
    for (const [p, q] of [["/a//b", ""], ["/./a", ""], ["/a/../b", ""], ["/%41", ""], ["/a", "?#"], ["a", ""], ["", ""], ["/é", ""]]) {
      expect(isCanonicalPath(p!, q!)).toBe(false);
    }
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
    expect(ok("/a%23b")).toBe("/a%23b"); // an encoded '#' is data, not a fragment
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
    for (const p of ["/caf%c3%a9", "/a%2541", "/a b/c", "/%f0%9f%98%80/%e2%82%ac", "/x/%7e;p=1"]) {
      const once = ok(p);
      expect(ok(once)).toBe(once);
    }
  });
});

describe("UTF-8 in percent-encodings", () => {
  test("well-formed sequences of every length are kept (upper-cased)", () => {
    expect(ok("/%c2%a0")).toBe("/%C2%A0"); // U+00A0, smallest 2-byte
    expect(ok("/%df%bf")).toBe("/%DF%BF");
    expect(ok("/%e0%a0%80")).toBe("/%E0%A0%80"); // U+0800, smallest 3-byte
    expect(ok("/%ed%9f%bf")).toBe("/%ED%9F%BF"); // U+D7FF, just below the surrogates
    expect(ok("/%ee%80%80")).toBe("/%EE%80%80"); // U+E000, just above them
    expect(ok("/%ef%bf%bf")).toBe("/%EF%BF%BF");
    expect(ok("/%f0%90%80%80")).toBe("/%F0%90%80%80"); // U+10000, smallest 4-byte
    expect(ok("/%f4%8f%bf%bf")).toBe("/%F4%8F%BF%BF"); // U+10FFFF, the last code point
    expect(ok("/a%C3%A9b%e2%82%acc")).toBe("/a%C3%A9b%E2%82%ACc");
  });

  test("overlong encodings", () => {
    expect(rejected("/%c0%ae")).toContain("not valid UTF-8"); // "." in 2 bytes
    expect(rejected("/%c1%bf")).toContain("not valid UTF-8");
    expect(rejected("/%e0%80%ae")).toContain("not valid UTF-8"); // "." in 3 bytes
    expect(rejected("/%e0%9f%bf")).toContain("not valid UTF-8");
    expect(rejected("/%f0%80%80%ae")).toContain("not valid UTF-8"); // "." in 4 bytes
    expect(rejected("/%f0%8f%bf%bf")).toContain("not valid UTF-8");
    expect(rejected("/%c0%af")).toContain("not valid UTF-8"); // "/" in 2 bytes
  });

  test("lone continuation bytes and bytes that never occur", () => {
    expect(rejected("/%80")).toContain("not valid UTF-8");
    expect(rejected("/%bf")).toContain("not valid UTF-8");
    expect(rejected("/%c3%a9%a9")).toContain("offset 7");
    expect(rejected("/%fe")).toContain("not valid UTF-8");
    expect(rejected("/%ff")).toContain("not valid UTF-8");
    expect(rejected("/%f5%80%80%80")).toContain("not valid UTF-8");
  });

  test("truncated sequences, including one cut by a raw char or the end", () => {
    expect(rejected("/%c3")).toContain("not valid UTF-8");
    expect(rejected("/%c3/")).toContain("not valid UTF-8");
    expect(rejected("/%e2%82")).toContain("not valid UTF-8");
    expect(rejected("/%e2%82x")).toContain("not valid UTF-8");
    expect(rejected("/%f0%9f%98")).toContain("not valid UTF-8");
    expect(rejected("/%c3%41")).toContain("not valid UTF-8"); // an ASCII byte where a continuation must be
    expect(rejected("/%c3%c3%a9")).toContain("not valid UTF-8");
  });

  test("UTF-16 surrogates encoded in UTF-8, and code points past U+10FFFF", () => {
    expect(rejected("/%ed%a0%80")).toContain("not valid UTF-8"); // U+D800
    expect(rejected("/%ed%bf%bf")).toContain("not valid UTF-8"); // U+DFFF
    expect(rejected("/%f4%90%80%80")).toContain("not valid UTF-8"); // U+110000
  });
});

describe("rejections", () => {
  test("'#' anywhere in the target: path or query, first or last", () => {
    expect(rejected("/#")).toContain("'#'");
    expect(rejected("/a/b#frag")).toContain("'#'");
    expect(rejected("/a#b?c")).toContain("'#'");
    expect(rejected("/a", "?#")).toContain("'#'");
    expect(rejected("/a", "?x=1#/admin")).toContain("'#'");
    expect(rejected("/a%20b#c")).toContain("'#'"); // slow path too
  });

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

  test("double encodings of dangerous chars, '.' and ';'", () => {
    expect(rejected("/a%252Fb")).toContain("double-encoded '/'");
    expect(rejected("/a%252fb")).toContain("double-encoded '/'");
    expect(rejected("/a%255Cb")).toContain("double-encoded '\\'");
    expect(rejected("/a%2500")).toContain("double-encoded NUL");
    expect(rejected("/%252e%252e/etc")).toContain("double-encoded '.'");
    expect(rejected("/%2e%2e%253bx/etc")).toContain("double-encoded ';'");
    // %32 and %46 decode to "2" and "F": the result is "%252F" all the same.
    expect(rejected("/a%25%32%46b")).toContain("double-encoded '/'");
  });

  test("double encodings must be valid UTF-8 too; valid ones are kept", () => {
    expect(rejected("/%25c0%25ae%25c0%25ae/admin")).toContain("double-encoded invalid UTF-8");
    expect(rejected("/a%25ff")).toContain("double-encoded invalid UTF-8");
    expect(rejected("/a%25c3")).toContain("double-encoded invalid UTF-8");
    expect(ok("/caf%25c3%25a9")).toBe("/caf%25c3%25a9");
    expect(ok("/%25e2%2582%25ac%25c3%25a9")).toBe("/%25e2%2582%25ac%25c3%25a9"); // two sequences back to back
  });

  test("lone surrogates", () => {
    expect(rejected("/a\ud800b")).toContain("surrogate");
  });
});

describe("dot-segments are refused, never resolved", () => {
  test("literal '.' and '..', anywhere, including last", () => {
    for (const p of ["/a/b/../c", "/a/./b", "/a/b/..", "/a/b/.", "/..", "/.", "/../../etc/passwd", "/a/../", "/./"]) {
      expect(rejected(p)).toContain("dot-segment");
    }
  });

  test("encoded and mixed forms", () => {
    for (const p of ["/a/%2e%2e/b", "/a/%2E%2E/b", "/a/.%2e/b", "/a/%2e./b", "/a/%2e/b", "/admin/%2e%2e/public", "/%2E"]) {
      expect(rejected(p)).toContain("dot-segment");
    }
  });

  test("a dot-segment before a path parameter, raw or encoded ';'", () => {
    for (const p of ["/echo/..;/admin", "/echo/.;/admin", "/a/..;jsessionid=x/b", "/a/%2e%2e;/b", "/a/.%2E;x=1", "/a/..%3b/b", "/a/..%3Bx/b", "/a/..;"]) {
      expect(rejected(p)).toContain("dot-segment");
    }
  });

  test("dot-segments win over empty segments: no merged path is offered", () => {
    const r = canonicalizePath("//a/../b", "");
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toContain("dot-segment");
      expect(r.merged).toBeUndefined();
    }
  });
});

describe("empty segments", () => {
  test("are refused, with the slash-merged path on offer", () => {
    expect(mergeable("//")).toBe("/");
    expect(mergeable("//a///b")).toBe("/a/b");
    expect(mergeable("/a//b")).toBe("/a/b");
    expect(mergeable("/a//")).toBe("/a/");
    expect(mergeable("/echo//x/")).toBe("/echo/x/");
  });

  test("the merged path is canonical too", () => {
    expect(mergeable("//caf%c3%a9//%7e")).toBe("/caf%C3%A9/~");
  });

  test("other failures win: no merged path is offered", () => {
    for (const p of ["//a%2Fb", "//a#b", "//a/%ff", "//a\\b"]) {
      const r = canonicalizePath(p, "");
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.merged).toBeUndefined();
    }
  });

  test("a trailing slash is not an empty segment", () => {
    expect(ok("/a/b/")).toBe("/a/b/");
    expect(ok("/a/%62/")).toBe("/a/b/");
    expect(ok("/")).toBe("/");
  });
});
