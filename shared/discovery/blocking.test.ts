// Unit tests for the blocking-query loop against a scripted stub fetchOnce: index rules, change detection,
// backoff, the token bucket and abort. The real-agent behaviour is covered in test/consul-discovery.test.ts.
import { describe, expect, test } from "bun:test";
import { nextIndex, watchBlocking, type BlockingAnswer, type FetchOnce } from "./blocking.ts";
import { backoffDelay, TokenBucket } from "./pacing.ts";

/** Not Bun.sleep: these tests also run on Deno (test/deno/). */
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Step = { index: number; body?: unknown } | { index: number; notFound: true } | { fail: unknown };

/** A fetchOnce that plays `steps` in order, then blocks like an idle Consul until its signal aborts. */
function scripted(steps: Step[]) {
  const calls: Array<{ index: number; wait: number }> = [];
  const times: number[] = [];
  const signals: AbortSignal[] = [];
  const fetchOnce: FetchOnce = async (index, wait, signal) => {
    calls.push({ index, wait });
    times.push(performance.now());
    signals.push(signal);
    const step = steps.shift();
    if (step === undefined) {
      return new Promise<BlockingAnswer>((_, reject) => {
        signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")), { once: true });
      });
    }
    if ("fail" in step) throw step.fail;
    if ("notFound" in step) return step;
    return { index: step.index, body: step.body ?? { at: step.index } };
  };
  return { fetchOnce, calls, times, signals, indexes: () => calls.map((c) => c.index) };
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error("condition not met in time");
    await sleep(2);
  }
}

describe("nextIndex", () => {
  test("echoes, resets on backwards, floors at 1", () => {
    expect(nextIndex(0, 5)).toBe(5);
    expect(nextIndex(5, 9)).toBe(9);
    expect(nextIndex(9, 9)).toBe(9);
    expect(nextIndex(9, 3)).toBe(0);
    expect(nextIndex(0, 0)).toBe(1);
  });
});

describe("watchBlocking", () => {
  test("follows the index rules and reports only changes", async () => {
    const stub = scripted([{ index: 5 }, { index: 5 }, { index: 7 }, { index: 3 }, { index: 0 }]);
    const changes: number[] = [];
    const ac = new AbortController();
    const done = watchBlocking({
      fetchOnce: stub.fetchOnce, parse: (b) => b as { at: number }, onChange: (v, i) => changes.push(v.at === i ? i : -1),
      onError: (e) => { throw e; }, signal: ac.signal, minIntervalMs: 0,
    });
    await until(() => stub.calls.length === 6);
    ac.abort();
    await done;
    // 0 first (no wait); echo 5, 5, 7; 3 went backwards → 0; 0 is below 1 → 1.
    expect(stub.indexes()).toEqual([0, 5, 5, 7, 0, 1]);
    expect(stub.calls[1]!.wait).toBe(300);
    // The repeated 5 is a timeout without change: no callback.
    expect(changes).toEqual([5, 7, 3, 0]);
  });

  test("backoff grows per consecutive failure and resets after a success", async () => {
    const refused = new TypeError("connection refused");
    const boom = new Error("consul: health.service: internal server error");
    const stub = scripted([{ fail: refused }, { fail: boom }, { fail: refused }, { index: 4 }, { fail: refused }, { index: 4 }]);
    const failures: number[] = [];
    const errors: unknown[] = [];
    const ac = new AbortController();
    const done = watchBlocking({
      fetchOnce: stub.fetchOnce, parse: (b) => b, onChange: () => {}, onError: (e, n) => { failures.push(n); errors.push(e); },
      signal: ac.signal, minIntervalMs: 0, random: () => 1, backoffBaseMs: 40, backoffCapMs: 1000,
    });
    await until(() => stub.calls.length === 7);
    ac.abort();
    await done;
    expect(failures).toEqual([1, 2, 3, 1]);
    expect(errors[1]).toBe(boom); // the client's error reaches onError as it is
    const gap = (i: number) => stub.times[i + 1]! - stub.times[i]!;
    expect(gap(0)).toBeGreaterThanOrEqual(38); // 40
    expect(gap(1)).toBeGreaterThanOrEqual(78); // 80
    expect(gap(2)).toBeGreaterThanOrEqual(158); // 160
    expect(gap(4)).toBeGreaterThanOrEqual(38); // back to 40 after the success
    expect(gap(4)).toBeLessThan(150);
    // After a failure the next query is a plain read (index 0): the agent may have restarted.
    expect(stub.indexes()).toEqual([0, 0, 0, 0, 4, 0, 4]);
  });

  test("a response without X-Consul-Index or with a bad body is an error and the index does not advance", async () => {
    const stub = scripted([{ index: Number.NaN, body: [] }, { index: 9, body: "not a list" }, { index: 9, body: [] }]);
    const errors: string[] = [];
    const got: unknown[] = [];
    const ac = new AbortController();
    const done = watchBlocking({
      fetchOnce: stub.fetchOnce, parse: (b) => { if (!Array.isArray(b)) throw new Error("bad body"); return b; },
      onChange: (v) => got.push(v), onError: (e) => errors.push(String(e)), signal: ac.signal,
      minIntervalMs: 0, backoffBaseMs: 1,
    });
    await until(() => stub.calls.length === 4);
    ac.abort();
    await done;
    expect(errors[0]).toContain("X-Consul-Index");
    expect(errors[1]).toContain("bad body");
    expect(got).toEqual([[]]);
    expect(stub.indexes()).toEqual([0, 0, 0, 9]);
  });

  test("not found is the notFoundBody when one is given, otherwise a failure", async () => {
    const stub = scripted([{ index: 3, notFound: true }, { index: 5, body: ["k"] }]);
    const got: unknown[] = [];
    const ac = new AbortController();
    const done = watchBlocking({
      fetchOnce: stub.fetchOnce, parse: (b) => b, notFoundBody: null, onChange: (v) => got.push(v),
      onError: (e) => { throw e; }, signal: ac.signal, minIntervalMs: 0,
    });
    await until(() => stub.calls.length === 3);
    ac.abort();
    await done;
    expect(got).toEqual([null, ["k"]]);
    expect(stub.indexes()).toEqual([0, 3, 5]);

    const strict = scripted([{ index: 3, notFound: true }]);
    const errors: string[] = [];
    const ac2 = new AbortController();
    const done2 = watchBlocking({ fetchOnce: strict.fetchOnce, parse: (b) => b, onChange: () => {}, onError: (e) => errors.push(String(e)), signal: ac2.signal, backoffBaseMs: 1 });
    await until(() => strict.calls.length === 2);
    ac2.abort();
    await done2;
    expect(errors[0]).toContain("404");
  });

  test("the token bucket caps a hot loop (burst 3, then one per interval)", async () => {
    let n = 0;
    const hot: FetchOnce = async () => ({ index: ++n, body: [] });
    let changes = 0;
    const ac = new AbortController();
    const started = performance.now();
    const done = watchBlocking({ fetchOnce: hot, parse: (b) => b, onChange: () => changes++, onError: () => {}, signal: ac.signal, minIntervalMs: 50 });
    await sleep(500);
    ac.abort();
    await done;
    const elapsed = performance.now() - started;
    const allowed = 3 + Math.floor(elapsed / 50);
    console.log(`hot loop: ${n} requests in ${Math.round(elapsed)} ms (bucket allows ${allowed})`);
    expect(n).toBeLessThanOrEqual(allowed);
    expect(n).toBeGreaterThanOrEqual(8);
    expect(changes).toBe(n);
  });

  test("abort ends an in-flight blocking query promptly", async () => {
    const stub = scripted([{ index: 2 }]);
    const ac = new AbortController();
    const done = watchBlocking({ fetchOnce: stub.fetchOnce, parse: (b) => b, onChange: () => {}, onError: () => {}, signal: ac.signal });
    await until(() => stub.calls.length === 2);
    const t = performance.now();
    ac.abort();
    await done;
    expect(performance.now() - t).toBeLessThan(50);
    expect(stub.signals[1]!.aborted).toBe(true);
  });

  test("abort ends a backoff sleep promptly", async () => {
    const stub = scripted([{ fail: new TypeError("refused") }]);
    const ac = new AbortController();
    const done = watchBlocking({ fetchOnce: stub.fetchOnce, parse: (b) => b, onChange: () => {}, onError: () => {}, signal: ac.signal, random: () => 1, backoffBaseMs: 5000 });
    await until(() => stub.calls.length === 1);
    await sleep(10);
    const t = performance.now();
    ac.abort();
    await done;
    expect(performance.now() - t).toBeLessThan(50);
    expect(stub.calls.length).toBe(1);
  });
});

describe("pacing", () => {
  test("backoffDelay is full jitter over a capped exponential", () => {
    const max = () => 1;
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, max))).toEqual([100, 200, 400, 800]);
    expect(backoffDelay(20, max)).toBe(10_000);
    expect(backoffDelay(2000, max)).toBe(10_000);
    expect(backoffDelay(3, () => 0.5)).toBe(200);
    expect(backoffDelay(3, () => 0)).toBe(0);
    expect(backoffDelay(0, max)).toBe(0);
  });

  test("TokenBucket allows a burst, then refills one token per interval", async () => {
    let now = 0;
    const bucket = new TokenBucket(3, 100, () => now);
    const signal = new AbortController().signal;
    for (let i = 0; i < 3; i++) await bucket.take(signal); // burst: no waiting on a frozen clock
    now += 100;
    await bucket.take(signal);
    now += 1000; // a long idle period refills only up to the burst
    for (let i = 0; i < 3; i++) await bucket.take(signal);
    const ac = new AbortController();
    const pending = bucket.take(ac.signal); // empty bucket and frozen clock: waits
    let settled = false;
    void pending.then(() => (settled = true));
    await sleep(20);
    expect(settled).toBe(false);
    ac.abort();
    await pending;
    expect(settled).toBe(true);
  });
});
