// Retry filter: re-sends idempotent requests on connect failures, resets, per-try timeouts and chosen statuses,
// replaying a bounded buffered body; each try can pick a fresh endpoint because ctx.tried is kept across tries.
import type { CompiledRetry, Filter, RequestContext } from "../types.ts";
import type { RetryBudget } from "../upstream/retry-budget.ts";
import type { CircuitBreaker } from "../upstream/circuit-breaker.ts";
import { UpstreamError } from "../types.ts";
import { callWithDeadline, discard } from "./deadline.ts";
import { prepareReplay } from "./replay-body.ts";
import { copyRequest } from "./request-copy.ts";

const NOT_A_RETRY = { release: undefined };
export const IDEMPOTENT: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]);

/** Whether a response with `status` is retried under `on` (the relay's retries ask the same). */
export function retryableStatus(on: CompiledRetry["on"], s: number): boolean {
  return on.has(s) || (on.has("5xx") && s >= 500 && s <= 599) || (on.has("gateway-error") && s >= 502 && s <= 504);
}

export type RetryDeps = {
  /** Jitter source, injectable for tests. */
  readonly random?: () => number;
  /** The destination cluster's retry budget for this policy: every request counts, each retry must fit. */
  readonly budget?: RetryBudget;
  /** The destination cluster's breaker, read per retry (a reload may add one): its maxRetries bounds retries in flight. */
  readonly breaker?: () => CircuitBreaker | undefined;
};

/**
 * Contract with the rest of the pipeline: this filter counts tries in ctx.attempts (the innermost handler must not),
 * never clears ctx.tried, and leaves response headers alone. A per-try timeout firing is always retryable;
 * other "timeout" errors (e.g. from a filter further in) are not.
 */
export function retryFilter(policy: CompiledRetry, deps: RetryDeps = {}): Filter {
  const random = deps.random ?? Math.random;
  const on = policy.on;
  const retryStatus = (s: number) => retryableStatus(on, s);

  return (next) => {
    const tryOnce = (req: Request, ctx: RequestContext, onTimeout: () => UpstreamError): Promise<Response> => {
      ctx.attempts++;
      if (policy.perTryTimeoutMs === undefined) return next(req, ctx);
      return callWithDeadline(next, req, ctx, policy.perTryTimeoutMs, onTimeout);
    };
    const plainTimeout = () => new UpstreamError("timeout", `try got no response within ${policy.perTryTimeoutMs}ms`);

    const budget = deps.budget;
    const breakerOf = deps.breaker;
    /** Whether one more try may go; when it may and a breaker counts retries, `release` ends that count. */
    const mayRetry = (): { release: (() => void) | undefined } | undefined => {
      if (budget !== undefined && !budget.tryRetry()) return undefined;
      const breaker = breakerOf?.();
      if (breaker === undefined) return { release: undefined };
      return breaker.tryRetry() ? { release: () => breaker.retryDone() } : undefined;
    };

    return async (req, ctx) => {
      budget?.request();
      if (policy.attempts <= 1 || (!policy.allowNonIdempotent && !IDEMPOTENT.has(req.method))) {
        return tryOnce(req, ctx, plainTimeout);
      }
      const body = await prepareReplay(req, policy.maxReplayBytes);
      if (body.kind === "oversized") return tryOnce(body.request, ctx, plainTimeout);

      let last: { response: Response } | { error: unknown } | undefined;
      for (let n = 1; n <= policy.attempts; n++) {
        // A retry must fit the budget and the breaker's retry threshold; if not, the last result stands.
        const retry = n === 1 ? NOT_A_RETRY : mayRetry();
        if (retry === undefined) break;
        if (last !== undefined) {
          if (ctx.signal.aborted || (policy.backoffMs > 0 && !(await sleep(random() * policy.backoffMs * 2 ** (n - 2), ctx.signal)))) {
            retry.release?.();
            break;
          }
          if ("response" in last) await discard(last.response); // free the connection before the next try
        }
        const tryReq = body.kind === "none" ? req : copyRequest(req, { body: body.bytes });
        let timedOut: UpstreamError | undefined;
        try {
          const response = await tryOnce(tryReq, ctx, () => (timedOut = plainTimeout()));
          if (!retryStatus(response.status)) return response;
          last = { response };
        } catch (error) {
          const retryable =
            error instanceof UpstreamError &&
            (error === timedOut || ((error.kind === "connect-failure" || error.kind === "reset") && on.has(error.kind)));
          if (!retryable) throw error;
          last = { error };
        } finally {
          retry.release?.();
        }
      }
      if (last !== undefined && "response" in last) return last.response;
      throw (last as { error: unknown }).error;
    };
  };
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(handle);
      resolve(false);
    };
    const handle = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
