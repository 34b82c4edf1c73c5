// Session affinity: hashes the request's affinity key (a header, a cookie, or the caller) into ctx.hash, which a
// consistent-hash balancer (ring hash, Maglev) maps onto the same endpoint for as long as the endpoint set allows.
import type { Filter, HashOnKind, RequestContext } from "../types.ts";
import { hash32 } from "../upstream/hash-key.ts";

function cookieValue(header: string | null, name: string): string | undefined {
  if (header === null) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function keyOf(on: HashOnKind, req: Request, ctx: RequestContext): string | undefined {
  if ("header" in on) return req.headers.get(on.header) ?? undefined;
  if ("cookie" in on) return cookieValue(req.headers.get("cookie"), on.cookie);
  return ctx.peer ?? ctx.clientIp;
}

/** A request without the key gets no hash: the balancer then spreads such requests round robin. */
export function hashFilter(on: HashOnKind): Filter {
  const lower = "header" in on ? { header: on.header.toLowerCase() } : on;
  return (next) => (req, ctx) => {
    const key = keyOf(lower, req, ctx);
    if (key !== undefined && key !== "") ctx.hash = hash32(key);
    return next(req, ctx);
  };
}
