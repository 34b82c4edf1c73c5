// Unit tests of the relay's retry decisions: the retry filter's rules (attempts, `on`, methods, budget, backoff) as
// asked per try; the filter itself is tested in filters/retry.test.ts, the relay over sockets in outbound-relay.test.ts.
import { describe, expect, test } from "bun:test";
import { relayRetry } from "./relay-retry.ts";
import { createRetryBudget } from "../upstream/retry-budget.ts";
import type { CompiledRetry, RetryOn } from "../types.ts";

const policy = (o: Partial<CompiledRetry> & { on?: ReadonlySet<RetryOn> } = {}): CompiledRetry => ({
  attempts: 3, on: new Set<RetryOn>(["connect-failure", "reset"]), perTryTimeoutMs: undefined, backoffMs: 25, allowNonIdempotent: false, maxReplayBytes: 65536, budget: undefined, ...o,
});

describe("relayRetry", () => {
  test("retries what `on` names, up to the attempts, and never a timeout or an identity mismatch", () => {
    const r = relayRetry({ policy: policy({ on: new Set<RetryOn>(["connect-failure", "gateway-error", 500]) }), budget: undefined }, "GET")!;
    expect(r.again(1, 502, "connect-failure", false)).toBe(true);
    expect(r.again(1, 502, "reset", false)).toBe(false); // not in `on`
    expect(r.again(1, 504, "timeout", false)).toBe(false);
    expect(r.again(1, 502, "identity-mismatch", false)).toBe(false);
    expect([500, 502, 503, 504, 501, 404, 200].map((s) => r.again(1, s, undefined, false))).toEqual([true, true, true, true, false, false, false]);
    expect(r.again(2, 503, undefined, false)).toBe(true);
    expect(r.again(3, 503, undefined, false)).toBe(false); // 3 tries made
  });

  test("a per-try timeout is retried whatever `on` says, within the attempts and the budget", () => {
    let t = 0;
    const budget = createRetryBudget({ ratio: 0.5, minPerSecond: 0, ttlMs: 10_000 }, () => t);
    const r = relayRetry({ policy: policy({ on: new Set<RetryOn>([503]), attempts: 2 }), budget }, "GET")!;
    relayRetry({ policy: policy(), budget }, "GET"); // a second request: 2 requests at 50 % = 1 retry
    expect(r.again(1, 504, "timeout", true)).toBe(true);
    expect(r.again(1, 504, "timeout", true)).toBe(false); // the budget is spent
    expect(relayRetry({ policy: policy({ attempts: 2 }), budget: undefined }, "GET")!.again(2, 504, "timeout", true)).toBe(false);
    expect(t).toBe(0);
  });

  test("5xx covers every 5xx status", () => {
    const r = relayRetry({ policy: policy({ on: new Set<RetryOn>(["5xx"]) }), budget: undefined }, "GET")!;
    expect([500, 599, 499].map((s) => r.again(1, s, undefined, false))).toEqual([true, true, false]);
  });

  test("one try only: a single attempt, or a method the policy won't repeat", () => {
    expect(relayRetry({ policy: policy({ attempts: 1 }), budget: undefined }, "GET")).toBeUndefined();
    expect(relayRetry({ policy: policy(), budget: undefined }, "POST")).toBeUndefined();
    expect(relayRetry({ policy: policy({ allowNonIdempotent: true }), budget: undefined }, "POST")).toBeDefined();
    for (const m of ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]) expect(relayRetry({ policy: policy(), budget: undefined }, m)).toBeDefined();
  });

  test("every request counts toward the budget, and a retry must fit it", () => {
    let t = 0;
    const budget = createRetryBudget({ ratio: 0.5, minPerSecond: 0, ttlMs: 10_000 }, () => t);
    for (let i = 0; i < 4; i++) relayRetry({ policy: policy(), budget }, "POST"); // counted, though never retried
    const r = relayRetry({ policy: policy(), budget }, "GET")!;
    // 5 requests at 50 %: 2 retries fit, the third does not.
    expect([r.again(1, 0, "reset", false), r.again(1, 0, "reset", false), r.again(1, 0, "reset", false)]).toEqual([true, true, false]);
    t += 20_000;
    expect(r.again(1, 0, "reset", false)).toBe(false); // the window moved on: no requests in it, no minimum
  });

  test("a route's decisions are made once and shared by its requests; the budget still counts every request", () => {
    let t = 0;
    const budget = createRetryBudget({ ratio: 0.5, minPerSecond: 0, ttlMs: 10_000 }, () => t);
    const route = { policy: policy({ on: new Set<RetryOn>([503]) }), budget };
    const first = relayRetry(route, "GET")!;
    const second = relayRetry(route, "HEAD")!;
    expect(second).toBe(first); // no per-request object
    expect(relayRetry({ ...route }, "GET")).not.toBe(first); // other settings (a new snapshot's route): its own
    // 3 requests counted (the copy above shares the budget) at 50 %: 1 retry fits.
    expect([first.again(1, 503, undefined, false), second.again(1, 503, undefined, false)]).toEqual([true, false]);
    expect(t).toBe(0);
  });

  test("backoff: jittered and doubling per try, none when the policy has none", () => {
    const r = relayRetry({ policy: policy({ backoffMs: 100 }), budget: undefined }, "GET", () => 0.5)!;
    expect([r.backoffMs(2), r.backoffMs(3), r.backoffMs(4)]).toEqual([50, 100, 200]);
    expect(relayRetry({ policy: policy({ backoffMs: 0 }), budget: undefined }, "GET")!.backoffMs(2)).toBe(0);
  });
});
