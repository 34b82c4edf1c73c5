// Whole-request deadline (Envoy's route timeout): runs until response headers arrive, then lets the body stream.
// With a request-wide cancel (set by listeners) it aborts that directly; otherwise it derives a child signal.
import type { Filter } from "../types.ts";
import { UpstreamError } from "../types.ts";
import { callWithDeadline, discard } from "./deadline.ts";

export function timeoutFilter(ms: number): Filter {
  if (!Number.isFinite(ms) || ms <= 0) throw new Error(`timeout must be a positive number of ms, got ${ms}`);
  const expired = () => new UpstreamError("timeout", `no upstream response within ${ms}ms`);
  return (next) => (req, ctx) => {
    const cancel = ctx.cancel;
    if (cancel === undefined) return callWithDeadline(next, req, ctx, ms, expired);
    return new Promise<Response>((resolve, reject) => {
      let fired = false;
      const timer = setTimeout(() => {
        fired = true;
        const err = expired(); // built only when it fires: an Error's stack trace is not free per request
        reject(err);
        cancel(err);
      }, ms);
      let inner: Promise<Response>;
      try {
        inner = next(req, ctx);
      } catch (err) {
        inner = Promise.reject(err);
      }
      inner.then(
        (res) => {
          clearTimeout(timer);
          if (fired) void discard(res);
          else resolve(res);
        },
        (err) => {
          clearTimeout(timer);
          if (!fired) reject(err);
        },
      );
    });
  };
}
