// Unit tests of the URL and Host helpers every listener shares (pure string functions).
import { describe, expect, test } from "bun:test";
import { routingHost, splitTarget, splitUrl } from "./url.ts";

describe("routingHost", () => {
  test("port, trailing dot and case are dropped; a plain name comes back as is", () => {
    expect(routingHost("echo")).toBe("echo");
    expect(routingHost("echo:8080")).toBe("echo");
    expect(routingHost("Echo.Example.COM.")).toBe("echo.example.com");
    expect(routingHost("echo.")).toBe("echo");
    expect(routingHost("[::1]:15001")).toBe("[::1]");
    expect(routingHost("")).toBe("");
  });
});

describe("splitting", () => {
  test("URLs and raw targets split at the first ?", () => {
    expect(splitUrl("http://a:1/p/q?x=1")).toEqual({ origin: "http://a:1", pathname: "/p/q", search: "?x=1" });
    expect(splitTarget("/a?b?c")).toEqual({ pathname: "/a", search: "?b?c" });
  });
});
