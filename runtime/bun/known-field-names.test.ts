// Unit tests of the constant field names and methods: a hit is exactly what slicing and lower-casing would give, a
// near miss (length, one char, a non-letter that folds) is no hit, and methods stay case-sensitive.
import { describe, expect, test } from "bun:test";
import { knownFieldName, knownMethod } from "./known-field-names.ts";

describe("knownFieldName", () => {
  test("known names in any ASCII case come back as the lower-case constant, read in place", () => {
    const text = "GET / HTTP/1.1\r\nHost: a\r\nX-Request-ID: 1\r\ntraceparent: x\r\n";
    const at = (name: string): [number, number] => [text.indexOf(name), text.indexOf(name) + name.length];
    expect(knownFieldName(text, ...at("Host"))).toBe("host");
    expect(knownFieldName(text, ...at("X-Request-ID"))).toBe("x-request-id");
    expect(knownFieldName(text, ...at("traceparent"))).toBe("traceparent");
  });

  test("every answer equals slice + toLowerCase, and misses are undefined", () => {
    const names = ["host", "HOST", "hosT", "hosts", "hos", "x-request-id", "x-request-ie", "x_request-id", "Content-Length", "content-lengtH", "content-lengt", "TE", "accept", "Accept-Encoding", "x-mesh-client-id", "@ost", "[ost"];
    for (const n of names) {
      const hit = knownFieldName(`${n}: v`, 0, n.length);
      if (hit !== undefined) expect(hit).toBe(n.toLowerCase());
    }
    expect(knownFieldName("hosts", 0, 5)).toBeUndefined();
    expect(knownFieldName("x-request-ie", 0, 12)).toBeUndefined();
    expect(knownFieldName("x_request-id", 0, 12)).toBeUndefined();
    // "@" (0x40) and "[" (0x5b) sit next to A-Z; folding them would make "`ost" or "{ost", never "host".
    expect(knownFieldName("@ost", 0, 4)).toBeUndefined();
    expect(knownFieldName("[ost", 0, 4)).toBeUndefined();
    expect(knownFieldName("", 0, 0)).toBeUndefined();
  });
});

describe("knownMethod", () => {
  test("the constant for the fast reader's methods; case and length must match", () => {
    expect(knownMethod("GET / HTTP/1.1", 3)).toBe("GET");
    expect(knownMethod("OPTIONS * HTTP/1.1", 7)).toBe("OPTIONS");
    expect(knownMethod("DELETE /x HTTP/1.1", 6)).toBe("DELETE");
    expect(knownMethod("get / HTTP/1.1", 3)).toBeUndefined();
    expect(knownMethod("GETS / HTTP/1.1", 4)).toBeUndefined();
    expect(knownMethod("CONNECT a:1 HTTP/1.1", 7)).toBeUndefined();
  });
});
