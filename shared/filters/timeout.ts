// Whole-request deadline (Envoy's route timeout): runs until response headers arrive, then lets the body stream.
// With a request-wide cancel (set by listeners) it aborts that directly; otherwise it derives a child signal.
import type { Filter } from "../types.ts";
import { UpstreamError } from "../types.ts";
import { callWithDeadline, raceDeadline } from "./deadline.ts";

export function timeoutFilter(ms: number): Filter {
  if (!Number.isFinite(ms) || ms <= 0) throw new Error(`timeout must be a positive number of ms, got ${ms}`);
  const expired = () => new UpstreamError("timeout", `no upstream response within ${ms}ms`);
  return (next) => (req, ctx) => {
    const cancel = ctx.cancel;
    // No child signal needed: this is the outermost deadline, so aborting the whole request is exactly right.
    if (cancel !== undefined) return raceDeadline(() => next(req, ctx), ms, expired, cancel);
    return callWithDeadline(next, req, ctx, ms, expired);
  };
}
