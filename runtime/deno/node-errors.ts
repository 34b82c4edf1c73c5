// Maps node:http(s) client errors on Deno to upstream error kinds: before any request byte could have reached the
// upstream (safe to retry anywhere) is a connect-failure, anything later is a reset.
import type { UpstreamErrorKind } from "../../shared/types.ts";

const CONNECT_CODES = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EPROTO"]);

/** TLS verification failures (UNABLE_TO_VERIFY_LEAF_SIGNATURE, CERT_HAS_EXPIRED, ERR_TLS_...): the handshake failed. */
function isTlsCode(code: string): boolean {
  return code.includes("CERT") || code.includes("TLS") || code.includes("SSL") || code.startsWith("UNABLE_TO_") || code.includes("ISSUER");
}

export function classifyNodeError(e: unknown): Extract<UpstreamErrorKind, "connect-failure" | "reset"> {
  const code = typeof e === "object" && e !== null ? (e as { code?: unknown }).code : undefined;
  if (typeof code === "string" && (CONNECT_CODES.has(code) || isTlsCode(code))) return "connect-failure";
  return "reset";
}
