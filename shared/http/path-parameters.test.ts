// Unit tests for withoutPathParameters: the servlet-style reading of a canonical path that route-path.ts compares
// against, so a ";" can never pick a different route than the one the upstream will act on.
import { describe, expect, test } from "bun:test";
import { withoutPathParameters } from "./path-parameters.ts";

describe("withoutPathParameters", () => {
  test("a path without ';' or '%3B' has nothing to cut (undefined, no work)", () => {
    for (const p of ["/", "/admin/secret", "/a%3Fb", "/a%253B"]) expect(withoutPathParameters(p)).toBeUndefined();
  });

  test("cuts ';...' from every segment, keeping the slashes between them", () => {
    expect(withoutPathParameters("/admin;x/secret")).toBe("/admin/secret");
    expect(withoutPathParameters("/app;jsessionid=AB12")).toBe("/app");
    expect(withoutPathParameters("/a;x=1;y=2/b;z/c")).toBe("/a/b/c");
    expect(withoutPathParameters("/a/b;")).toBe("/a/b");
    expect(withoutPathParameters("/a;x/")).toBe("/a/");
  });

  test("an encoded ';' (canonical upper-case '%3B') starts a parameter too", () => {
    expect(withoutPathParameters("/admin%3Bx/secret")).toBe("/admin/secret");
    expect(withoutPathParameters("/a%3Bx;y/b")).toBe("/a/b");
  });

  test("segments that were only parameters leave no empty segment behind", () => {
    expect(withoutPathParameters("/;x/admin")).toBe("/admin");
    expect(withoutPathParameters("/a/;x/;y/b")).toBe("/a/b");
    expect(withoutPathParameters("/;x")).toBe("/");
  });
});
