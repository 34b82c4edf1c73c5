// Runs one call of a handler under a deadline: the handler sees a child signal that aborts when the time is up,
// and the caller gets the deadline's error even if the handler ignores its signal.
import type { Handler, RequestContext, UpstreamError } from "../types.ts";
import { withSignal } from "./scoped-context.ts";

/**
 * The deadline covers the call until `next` resolves, i.e. until response headers arrive; a body still streaming
 * afterwards is bounded only by the request's own signal. A response that arrives after the deadline is cancelled.
 */
export function callWithDeadline(next: Handler, req: Request, ctx: RequestContext, ms: number, onExpire: () => UpstreamError): Promise<Response> {
  const timer = new AbortController();
  const scoped = withSignal(ctx, AbortSignal.any([ctx.signal, timer.signal]));
  return raceDeadline(() => next(req, scoped), ms, onExpire, (err) => timer.abort(err));
}

/** Runs `call` against a timer; on expiry rejects with onExpire() and then calls `abort` with that error. */
export function raceDeadline(call: () => Promise<Response>, ms: number, onExpire: () => UpstreamError, abort: (err: UpstreamError) => void): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    let expired = false;
    const handle = setTimeout(() => {
      expired = true;
      const timeoutError = onExpire(); // built only when it fires: an Error's stack trace is not free per request
      reject(timeoutError); // settle first, so the caller sees our error rather than whatever the abort causes
      abort(timeoutError);
    }, ms);
    let inner: Promise<Response>;
    try {
      inner = call();
    } catch (err) {
      inner = Promise.reject(err);
    }
    inner.then(
      (res) => {
        clearTimeout(handle);
        if (expired) void discard(res);
        else resolve(res);
      },
      (err) => {
        clearTimeout(handle);
        if (!expired) reject(err);
      },
    );
  });
}

/** Release a response nobody will read, so its upstream connection is not held open. */
export async function discard(res: Response): Promise<void> {
  try {
    await res.body?.cancel();
  } catch {
    // Already locked or errored: nothing left to release.
  }
}
