// HTTP hygiene applied on every listener: hop-by-hop stripping, framing checks, size limits, forwarded headers.
// The runtime's parser already rejects most malformed framing; these checks close the gaps it leaves (see README).
import type { ErrorCause } from "../http/errors.ts";
import type { HeaderMap } from "../http/field-list.ts";

export type ResolvedLimits = {
  readonly maxHeaderBytes: number;
  readonly maxUriLength: number;
  readonly maxBodyBytes: number;
  readonly headerTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly bodyIdleTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly drainTimeoutMs: number;
};

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Keeps a well-formed incoming x-request-id so a trace can be followed across hops; otherwise makes one. */
export function requestIdOf(headers: Pick<Headers, "get">): string {
  const incoming = headers.get("x-request-id");
  return incoming !== null && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
}

export type Rejection = { cause: ErrorCause; message: string };

const CONTENT_LENGTH = /^\d{1,15}$/;

/** The listeners' own head cap: below it the listener's HTTP/1.1 codec answers 431 itself, so only a lower limit needs the walk. */
const PARSER_HEADER_CAP = 16 * 1024;

/**
 * Checks a downstream request head before anything reaches a route. Returns why it must be refused, or
 * undefined. `urlLength` is the length of the request target (path + query) as received.
 */
export function checkRequestHead(req: Request, urlLength: number, limits: ResolvedLimits): Rejection | undefined {
  if (urlLength > limits.maxUriLength) {
    return { cause: "uri-too-long", message: `request target is ${urlLength} bytes, limit ${limits.maxUriLength}` };
  }
  const h = req.headers;
  // Counted, not re-validated: the listeners' HTTP/1.1 parsers reject CR/LF/NUL themselves.
  // Both parsers also answer 431 past 16 KiB themselves, so only a lower limit needs the per-request walk.
  if (limits.maxHeaderBytes < PARSER_HEADER_CAP) {
    let headerBytes = 0;
    for (const [name, value] of h) headerBytes += name.length + value.length + 4;
    if (headerBytes > limits.maxHeaderBytes) {
      return { cause: "headers-too-large", message: `request headers are ${headerBytes} bytes, limit ${limits.maxHeaderBytes}` };
    }
  }
  const cl = h.get("content-length");
  const te = h.get("transfer-encoding");
  if (cl !== null && te !== null) return { cause: "bad-request", message: "both content-length and transfer-encoding" };
  if (te !== null && te.trim().toLowerCase() !== "chunked") {
    return { cause: "bad-request", message: `unsupported transfer-encoding ${te}` };
  }
  if (cl !== null) {
    // A comma means the header was sent more than once: ambiguous framing, refuse even if the values agree.
    if (!CONTENT_LENGTH.test(cl)) return { cause: "bad-request", message: `invalid or duplicate content-length "${cl}"` };
    if (Number(cl) > limits.maxBodyBytes) {
      return { cause: "body-too-large", message: `body is ${cl} bytes, limit ${limits.maxBodyBytes}` };
    }
  }
  if (!h.has("host") && req.url === "") return { cause: "bad-request", message: "missing host" };
  return undefined;
}

/** A request body that outgrew maxBodyBytes while streaming; the listener answers 413 (or resets once responding). */
export class BodyTooLargeError extends Error {
  constructor(limit: number) {
    super(`request body exceeds ${limit} bytes`);
    this.name = "BodyTooLargeError";
  }
}

/**
 * Sets X-Forwarded-For (appending the downstream address) and X-Forwarded-Proto. At the edge the incoming
 * proto is not trusted; between mesh members (mTLS-verified peers) it is kept.
 */
export function setForwardedHeaders(headers: HeaderMap, clientIp: string | undefined, proto: "http" | "https", trustIncoming: boolean): void {
  if (clientIp !== undefined) {
    const prior = trustIncoming ? headers.get("x-forwarded-for") : null;
    headers.set("x-forwarded-for", prior ? `${prior}, ${clientIp}` : clientIp);
  }
  if (!trustIncoming || !headers.has("x-forwarded-proto")) headers.set("x-forwarded-proto", proto);
}
