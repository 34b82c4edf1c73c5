// Unit tests for mapping Bun fetch failures to upstream error kinds (codes as Bun 1.4.4 reports them).
// Connect-failures are retry-safe; everything unknown is treated as a reset, the conservative choice.

import { expect, test } from "bun:test";
import { classifyFetchError } from "./fetch-errors.ts";

const err = (code: string): Error => Object.assign(new TypeError("x"), { code });

test("refused, unreachable and TLS verification failures are connect-failures", () => {
  for (const c of ["ECONNREFUSED", "EHOSTUNREACH", "EPROTO", "SELF_SIGNED_CERT_IN_CHAIN", "CERT_HAS_EXPIRED", "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "ERR_TLS_CERT_ALTNAME_INVALID"]) {
    expect(classifyFetchError(err(c))).toBe("connect-failure");
  }
});

test("resets and unknown failures are resets", () => {
  expect(classifyFetchError(err("ECONNRESET"))).toBe("reset");
  expect(classifyFetchError(new Error("no code"))).toBe("reset");
  expect(classifyFetchError("weird")).toBe("reset");
});
