// The outbound relay's retry decisions for a body-less request on a fast route with retries: the retry filter's
// rules (filters/retry.ts: attempts, `on`, idempotent methods, budget, backoff) asked per try, without a Request.
import type { UpstreamErrorKind } from "../types.ts";
import type { FastRetry } from "./snapshot.ts";
import { IDEMPOTENT, retryableStatus } from "../filters/retry.ts";

export type RelayRetry = {
  /**
   * Try `n` (from 1) ended with `status`, or with `failure` before any status (`status` is then the mesh's own
   * answer; `perTry`: the failure is the per-try timeout): may try n + 1 go? A yes has taken a retry from the budget.
   */
  again(n: number, status: number, failure: UpstreamErrorKind | undefined, perTry: boolean): boolean;
  /** How long to wait before try `n` (n >= 2): jittered, doubling, as the filter waits. */
  backoffMs(n: number): number;
};

/** Tries that are never repeated: a single try that may still have a per-try timeout. */
export const ONE_TRY: RelayRetry = { again: () => false, backoffMs: () => 0 };

// One decision object per route's retry settings (it holds no per-request state): made on a route's first request.
const shared = new WeakMap<FastRetry, RelayRetry>();

/** Undefined when this request gets one try only (one attempt, or a method the policy won't repeat). */
export function relayRetry(r: FastRetry, method: string, random: () => number = Math.random): RelayRetry | undefined {
  // Every request counts toward the budget's ratio, retried or not (as in the filter).
  r.budget?.request();
  const p = r.policy;
  if (p.attempts <= 1 || (!p.allowNonIdempotent && !IDEMPOTENT.has(method))) return undefined;
  if (random !== Math.random) return decisions(r, random);
  let d = shared.get(r);
  if (d === undefined) shared.set(r, (d = decisions(r, undefined)));
  return d;
}

/** `random` undefined: Math.random as it is at each backoff (the shared objects outlive any one caller's choice). */
function decisions(r: FastRetry, random: (() => number) | undefined): RelayRetry {
  const p = r.policy;
  return {
    again(n, status, failure, perTry) {
      if (n >= p.attempts) return false;
      // A per-try timeout is always retried (whatever `on` says); no other timeout is.
      const retryable = perTry || (failure === undefined ? retryableStatus(p.on, status) : (failure === "connect-failure" || failure === "reset") && p.on.has(failure));
      return retryable && (r.budget === undefined || r.budget.tryRetry());
    },
    backoffMs: (n) => (p.backoffMs > 0 ? (random ?? Math.random)() * p.backoffMs * 2 ** (n - 2) : 0),
  };
}
