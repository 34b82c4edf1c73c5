// Maps Bun fetch failures on a mesh connection to upstream error kinds (connect-failure vs reset).
// Bun reports socket and TLS failures through `code`; the lists below were checked against Bun 1.4.4.

import type { UpstreamErrorKind } from "../../shared/types.ts";

// Failures before any request byte could have reached the upstream: safe to retry anywhere.
const CONNECT_CODES = new Set(["ECONNREFUSED", "ConnectionRefused", "EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL", "ENOTFOUND", "EPROTO", "ETIMEDOUT", "FailedToOpenSocket", "ConnectionTimeout"]);

/** TLS verification failures use OpenSSL's names (SELF_SIGNED_CERT_IN_CHAIN, CERT_HAS_EXPIRED, ...). */
function isTlsVerifyCode(code: string): boolean {
  return code.includes("CERT") || code.includes("TLS") || code.includes("SSL") || code.startsWith("UNABLE_TO_") || code.includes("ISSUER");
}

export function classifyFetchError(e: unknown): Extract<UpstreamErrorKind, "connect-failure" | "reset"> {
  const code = typeof e === "object" && e !== null ? (e as { code?: unknown }).code : undefined;
  if (typeof code === "string" && (CONNECT_CODES.has(code) || isTlsVerifyCode(code))) return "connect-failure";
  return "reset";
}
