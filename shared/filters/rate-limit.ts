// Local rate limiting: a token bucket per route (gateway, outbound) or per service (inbound), optionally one bucket
// per caller or per header value. Over the limit: 429 with Retry-After, and the upstream never sees the request.
import type { Filter } from "../types.ts";
import type { KeyedBuckets, TokenBucketConfig } from "../upstream/token-bucket.ts";
import type { RateLimitConfig } from "../config/schema.ts";
import { errorResponse } from "../http/errors.ts";
import type { HeaderMap } from "../http/field-list.ts";

/** What a request's bucket is keyed by: nothing (one bucket), a header's value, or the caller. */
export type RateLimitKey = { readonly header: string } | { readonly caller: true } | undefined;

/** The bucket's key for a request; `key` as from lowerKey (header names in lower case). */
export function rateLimitKeyOf(key: RateLimitKey, headers: HeaderMap, peer: string | undefined, clientIp: string | undefined): string {
  if (key === undefined) return "";
  if ("header" in key) return headers.get(key.header) ?? "";
  // The verified identity where there is one (inbound), else the downstream's address (gateway, outbound).
  return peer ?? clientIp ?? "";
}

export function lowerKey(key: RateLimitKey): RateLimitKey {
  return key !== undefined && "header" in key ? { header: key.header.toLowerCase() } : key;
}

/** A rate limit's buckets (from `buckets`, which keeps them across reloads) and key, as the filter and the relays use them. */
export function compileRateLimit(l: RateLimitConfig, buckets: (c: TokenBucketConfig) => KeyedBuckets): { buckets: KeyedBuckets; key: RateLimitKey } {
  const config = { ratePerSecond: l.requestsPerSecond, burst: l.burst ?? Math.max(1, Math.ceil(l.requestsPerSecond)) };
  return { buckets: buckets(config), key: lowerKey(l.key?.header !== undefined ? { header: l.key.header } : l.key?.caller === true ? { caller: true } : undefined) };
}

export function rateLimitFilter(buckets: KeyedBuckets, key: RateLimitKey): Filter {
  const header = lowerKey(key);
  return (next) => (req, ctx) => {
    const waitMs = buckets.take(rateLimitKeyOf(header, req.headers, ctx.peer, ctx.clientIp), performance.now());
    if (waitMs === 0) return next(req, ctx);
    void req.body?.cancel().catch(() => {});
    // Retry-After is in whole seconds (RFC 9110); round up so a client that obeys it finds a token.
    return Promise.resolve(errorResponse("rate-limited", ctx.requestId, "local rate limit exceeded", undefined, { "retry-after": String(Math.max(1, Math.ceil(waitMs / 1000))) }));
  };
}
