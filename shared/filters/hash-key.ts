// Session affinity: hashes the request's affinity key (a header, a cookie, or the caller) into ctx.hash, which a
// consistent-hash balancer (ring hash, Maglev) maps onto the same endpoint for as long as the endpoint set allows.
import type { Filter, HashOnKind } from "../types.ts";
import type { HeaderMap } from "../http/field-list.ts";
import { hash32 } from "../upstream/hash-key.ts";

function cookieValue(header: string | null, name: string): string | undefined {
  if (header === null) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function keyOf(on: HashOnKind, headers: HeaderMap, peer: string | undefined, clientIp: string | undefined): string | undefined {
  if ("header" in on) return headers.get(on.header) ?? undefined;
  if ("cookie" in on) return cookieValue(headers.get("cookie"), on.cookie);
  return peer ?? clientIp;
}

/** `on` with a header name in lower case, as affinityHash reads it. */
export function lowerHashOn(on: HashOnKind): HashOnKind {
  return "header" in on ? { header: on.header.toLowerCase() } : on;
}

/** The request's affinity hash, or undefined when it has no key (`on` as from lowerHashOn). */
export function affinityHash(on: HashOnKind, headers: HeaderMap, peer: string | undefined, clientIp: string | undefined): number | undefined {
  const key = keyOf(on, headers, peer, clientIp);
  return key !== undefined && key !== "" ? hash32(key) : undefined;
}

/** A request without the key gets no hash: the balancer then spreads such requests round robin. */
export function hashFilter(on: HashOnKind): Filter {
  const lower = lowerHashOn(on);
  return (next) => (req, ctx) => {
    const h = affinityHash(lower, req.headers, ctx.peer, ctx.clientIp);
    if (h !== undefined) ctx.hash = h;
    return next(req, ctx);
  };
}
