// Unit tests of the shared exit-code rules: which start failures mean "a dependency did not answer" (exit 3).
import { describe, expect, test } from "bun:test";
import { isUnreachable } from "./cli.ts";

describe("isUnreachable", () => {
  test("connection refused, timeouts and DNS failures, also as a cause", () => {
    expect(isUnreachable(Object.assign(new TypeError("Unable to connect"), { code: "ECONNREFUSED" }))).toBe(true);
    expect(isUnreachable(Object.assign(new Error("t"), { name: "TimeoutError" }))).toBe(true);
    expect(isUnreachable(new Error("wrapped", { cause: Object.assign(new Error("x"), { code: "ENOTFOUND" }) }))).toBe(true);
  });
  test("refusals and TLS failures are problems, not unreachability", () => {
    expect(isUnreachable(Object.assign(new Error("join refused"), { code: "token-expired" }))).toBe(false);
    expect(isUnreachable(Object.assign(new TypeError("altname"), { code: "ERR_TLS_CERT_ALTNAME_INVALID" }))).toBe(false);
    expect(isUnreachable(new Error("plain"))).toBe(false);
    expect(isUnreachable(undefined)).toBe(false);
  });
});
