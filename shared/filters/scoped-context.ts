// A per-call view of a RequestContext with its own AbortSignal, for filters that impose a deadline on `next`.
// Reads fall through to the request's context; writes to attempts/lastEndpoint go back to it, so logs see them.
import type { Endpoint, RequestContext } from "../types.ts";

/**
 * Prototype delegation keeps fields added to RequestContext later readable without touching this file;
 * only the mutable fields need forwarding setters (add any new mutable field here).
 */
export function withSignal(ctx: RequestContext, signal: AbortSignal): RequestContext {
  return Object.create(ctx, {
    signal: { value: signal, writable: true, enumerable: true },
    attempts: {
      get: () => ctx.attempts,
      set: (n: number) => {
        ctx.attempts = n;
      },
      enumerable: true,
    },
    lastEndpoint: {
      get: () => ctx.lastEndpoint,
      set: (e: Endpoint | undefined) => {
        ctx.lastEndpoint = e;
      },
      enumerable: true,
    },
  }) as RequestContext;
}
