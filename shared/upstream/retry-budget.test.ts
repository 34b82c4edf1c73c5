// Unit tests for the retry budget: ratio of first tries, the per-second floor, the sliding window, live configuration.
// Pure logic on an injected clock.
import { describe, expect, test } from "bun:test";
import { createRetryBudget, type RetryBudget } from "./retry-budget.ts";

function clock(start = 0) {
  let t = start;
  return { now: () => t, set: (ms: number) => void (t = ms) };
}
const requests = (b: RetryBudget, n: number) => {
  for (let i = 0; i < n; i++) b.request();
};
/** How many retries in a row the budget allows now (stops at 1000). */
const allowed = (b: RetryBudget) => {
  let n = 0;
  while (n < 1000 && b.tryRetry()) n++;
  return n;
};

describe("retry budget", () => {
  test("ratio 0.2 without a floor: 100 first tries allow 20 retries, then retries are exhausted", () => {
    const c = clock();
    const b = createRetryBudget({ ratio: 0.2, minPerSecond: 0, ttlMs: 10_000 }, c.now);
    expect(b.tryRetry()).toBe(false); // no traffic, no floor
    requests(b, 100);
    expect(allowed(b)).toBe(20);
    expect(b.stats()).toEqual({ exhausted: 2 });
    requests(b, 5);
    expect(allowed(b)).toBe(1);
    expect(b.stats()).toEqual({ exhausted: 3 });
  });

  test("the floor allows minPerSecond * ttl retries with no traffic", () => {
    const c = clock();
    const b = createRetryBudget({ ratio: 0.2, minPerSecond: 1, ttlMs: 10_000 }, c.now);
    expect(allowed(b)).toBe(10);
    requests(b, 10);
    expect(allowed(b)).toBe(2); // floor + 20% of 10
  });

  test("first tries leave the window after ttl", () => {
    const c = clock(1_000_000);
    const b = createRetryBudget({ ratio: 0.2, minPerSecond: 0, ttlMs: 10_000 }, c.now);
    requests(b, 100);
    c.set(1_009_999);
    expect(b.tryRetry()).toBe(true);
    c.set(1_010_000);
    expect(b.tryRetry()).toBe(false);
  });

  test("retries leave the window bucket by bucket, so the budget refills as it slides", () => {
    const c = clock();
    const b = createRetryBudget({ ratio: 0, minPerSecond: 1, ttlMs: 10_000 }, c.now);
    for (let i = 0; i < 4; i++) expect(b.tryRetry()).toBe(true); // t=0: 4 of 10
    c.set(5_000);
    expect(allowed(b)).toBe(6); // t=5s: the other 6
    c.set(9_999);
    expect(b.tryRetry()).toBe(false);
    c.set(10_000); // t=0's bucket left: its 4 are free again
    expect(allowed(b)).toBe(4);
    c.set(15_000); // t=5s's bucket left
    expect(allowed(b)).toBe(6);
    c.set(1e9); // long idle: everything left at once
    expect(allowed(b)).toBe(10);
  });

  test("configure: ratio and floor apply at once, a new ttl starts a fresh window", () => {
    const c = clock();
    const b = createRetryBudget({ ratio: 0.2, minPerSecond: 0, ttlMs: 10_000 }, c.now);
    requests(b, 100);
    expect(allowed(b)).toBe(20);
    b.configure({ ratio: 0.5, minPerSecond: 0, ttlMs: 10_000 });
    expect(allowed(b)).toBe(30); // 50 in all, 20 already spent
    b.configure({ ratio: 0.5, minPerSecond: 2, ttlMs: 1_000 });
    expect(allowed(b)).toBe(2); // empty window: only the floor for 1 s
    c.set(1_000);
    requests(b, 10);
    expect(allowed(b)).toBe(7);
    expect(b.stats().exhausted).toBe(4);
  });
});
