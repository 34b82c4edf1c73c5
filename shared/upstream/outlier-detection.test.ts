// Unit tests for outlier detection: consecutive error counting, ejection times and decay, limits, panic, endpoint churn.
// Pure logic on an injected clock and timer queue; one test runs the default timers for a few milliseconds.
import { describe, expect, test } from "bun:test";
import { createOutlierDetector, type OutlierConfig, type OutlierDetector } from "./outlier-detection.ts";

const base: OutlierConfig = { consecutive5xx: 3, consecutiveGatewayErrors: undefined, intervalMs: 10, baseEjectionMs: 100, maxEjectionMs: 1000, maxEjectionPercent: 100, minHealthPercent: 0 };
const cfg = (over: Partial<OutlierConfig> = {}): OutlierConfig => ({ ...base, ...over });

/** A clock and timer queue the test moves by hand; advance() runs due timers in order, at their own time. */
function fakeClock() {
  let t = 0;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const due = (end: number) => [...timers].filter(([, x]) => x.at <= end).sort(([, x], [, y]) => x.at - y.at)[0];
  return {
    now: () => t,
    setTimer: (fn: () => void, ms: number) => (timers.set(++seq, { at: t + ms, fn }), seq),
    clearTimer: (id: unknown) => void timers.delete(id as number),
    pending: () => timers.size,
    advance(ms: number) {
      const end = t + ms;
      for (let next = due(end); next !== undefined; next = due(end)) {
        timers.delete(next[0]);
        t = next[1].at;
        next[1].fn();
      }
      t = end;
    },
  };
}

function setup(over: Partial<OutlierConfig> = {}, ids = ["a", "b", "c", "d"]) {
  const clock = fakeClock();
  const d = createOutlierDetector(cfg(over), clock);
  d.setEndpoints(ids);
  let changes = 0;
  d.onChange(() => changes++);
  return { d, clock, changes: () => changes };
}

const fail = (d: OutlierDetector, id: string, n: number, status = 500) => {
  for (let i = 0; i < n; i++) d.report(id, "http-5xx", status);
};
const excluded = (d: OutlierDetector) => [...d.excluded()].sort();

/** Ejects `id` and returns how long it stayed out, measured in sweep steps of 10 ms. */
function ejectionLength(d: OutlierDetector, clock: ReturnType<typeof fakeClock>, id: string): number {
  fail(d, id, 3);
  expect(d.excluded().has(id)).toBe(true);
  let waited = 0;
  for (; d.excluded().has(id); waited += 10) clock.advance(10);
  return waited;
}

describe("outlier detection", () => {
  test("ejects after N consecutive 5xx; a success or a non-5xx status resets the count", () => {
    const { d } = setup();
    fail(d, "a", 2);
    d.report("a", "success", 200);
    fail(d, "a", 2);
    d.report("a", "success", 404);
    fail(d, "a", 2);
    expect(d.excluded().size).toBe(0);
    fail(d, "a", 1);
    expect(excluded(d)).toEqual(["a"]);
    expect(d.stats()).toEqual({ ejectionsTotal: 1, ejected: 1, panic: false, endpoints: 4 });
  });

  test("local-origin failures count as 5xx; reports for unknown or already ejected ids are ignored", () => {
    const { d } = setup();
    d.report("a", "connect-failure", undefined);
    d.report("a", "reset", undefined);
    d.report("a", "timeout", undefined);
    expect(excluded(d)).toEqual(["a"]);
    fail(d, "a", 10);
    fail(d, "zzz", 10);
    expect(d.stats().ejectionsTotal).toBe(1);
  });

  test("gateway errors count 502/503/504 and local-origin failures; a 500 breaks the run", () => {
    const { d } = setup({ consecutive5xx: undefined, consecutiveGatewayErrors: 3 });
    fail(d, "a", 10, 500);
    expect(d.excluded().size).toBe(0);
    d.report("a", "http-5xx", 502);
    d.report("a", "http-5xx", 503);
    d.report("a", "http-5xx", 500);
    d.report("a", "http-5xx", 504);
    d.report("a", "timeout", undefined);
    expect(d.excluded().size).toBe(0);
    d.report("a", "http-5xx", 503);
    expect(excluded(d)).toEqual(["a"]);
  });

  test("the two detectors work independently", () => {
    const both = setup({ consecutive5xx: 5, consecutiveGatewayErrors: 2 });
    fail(both.d, "a", 2, 503);
    expect(excluded(both.d)).toEqual(["a"]); // gateway threshold first
    fail(both.d, "b", 4, 500);
    fail(both.d, "b", 1, 502);
    expect(excluded(both.d)).toEqual(["a", "b"]); // 5xx threshold, gateway run only 1
    const only5xx = setup({ consecutive5xx: 3, consecutiveGatewayErrors: undefined });
    fail(only5xx.d, "a", 2, 503);
    expect(only5xx.d.excluded().size).toBe(0);
    fail(only5xx.d, "a", 1, 503);
    expect(excluded(only5xx.d)).toEqual(["a"]);
  });

  test("ejection time grows 1x, 2x, 3x and stops at the cap; return happens at the first sweep after", () => {
    const { d, clock } = setup({ baseEjectionMs: 100, maxEjectionMs: 250 });
    expect(ejectionLength(d, clock, "a")).toBe(100);
    expect(ejectionLength(d, clock, "a")).toBe(200);
    expect(ejectionLength(d, clock, "a")).toBe(250);
    expect(ejectionLength(d, clock, "a")).toBe(250);
    expect(d.stats().ejectionsTotal).toBe(4);
  });

  test("each sweep that finds an endpoint in lowers its multiplier; the timer stops at zero", () => {
    const { d, clock } = setup();
    expect(clock.pending()).toBe(0); // no idle timer
    expect(ejectionLength(d, clock, "a")).toBe(100);
    expect(ejectionLength(d, clock, "a")).toBe(200); // multiplier 2
    clock.advance(10); // one sweep in: multiplier 1
    expect(ejectionLength(d, clock, "a")).toBe(200); // ejected again: back to 2
    clock.advance(20); // two sweeps in: multiplier 0
    expect(clock.pending()).toBe(0);
    expect(ejectionLength(d, clock, "a")).toBe(100);
  });

  test("max ejection percent limits ejections; one is always allowed when the percentage is above zero", () => {
    const ten = setup({ maxEjectionPercent: 20 }, ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    for (const id of ["0", "1", "2"]) fail(ten.d, id, 3);
    expect(excluded(ten.d)).toEqual(["0", "1"]);
    ten.clock.advance(100);
    fail(ten.d, "2", 1); // the counter stayed at the threshold: next failure ejects now that there is room
    expect(excluded(ten.d)).toEqual(["2"]);
    const three = setup({ maxEjectionPercent: 10 }, ["a", "b", "c"]);
    fail(three.d, "a", 3);
    fail(three.d, "b", 3);
    expect(excluded(three.d)).toEqual(["a"]);
    const off = setup({ maxEjectionPercent: 0 });
    fail(off.d, "a", 3);
    expect(off.d.stats().ejected).toBe(0);
  });

  test("panic: below the healthy threshold excluded() is empty, and it leaves panic when endpoints return", () => {
    const { d, clock, changes } = setup({ minHealthPercent: 50 });
    fail(d, "a", 3);
    clock.advance(50);
    fail(d, "b", 3);
    expect(excluded(d)).toEqual(["a", "b"]); // 2 of 4 healthy: 50% is not below 50%
    fail(d, "c", 3);
    expect(d.excluded().size).toBe(0);
    expect(d.stats()).toEqual({ ejectionsTotal: 3, ejected: 3, panic: true, endpoints: 4 });
    expect(changes()).toBe(3);
    clock.advance(50); // a comes back: 2 of 4 healthy
    expect(d.stats().panic).toBe(false);
    expect(excluded(d)).toEqual(["b", "c"]);
    expect(changes()).toBe(4);
  });

  test("setEndpoints forgets ids gone, keeps the rest, and can move the panic line", () => {
    const { d, clock, changes } = setup({ minHealthPercent: 50 });
    fail(d, "a", 3);
    fail(d, "b", 2);
    d.setEndpoints(["b", "c", "d"]); // a gone while ejected
    expect(d.excluded().size).toBe(0);
    expect(changes()).toBe(2);
    expect(clock.pending()).toBe(0); // nothing ejected or backed off any more
    fail(d, "b", 1); // b's count survived
    expect(excluded(d)).toEqual(["b"]);
    d.setEndpoints(["b", "c", "a"]); // a is new again: clean state
    fail(d, "a", 2);
    expect(excluded(d)).toEqual(["b"]);
    d.setEndpoints(["b"]); // 0 of 1 healthy: panic
    expect(d.stats()).toEqual({ ejectionsTotal: 2, ejected: 1, panic: true, endpoints: 1 });
    expect(d.excluded().size).toBe(0);
  });

  test("configure keeps counters and ejections; a lower threshold applies on the next failure", () => {
    const { d, clock, changes } = setup({ consecutive5xx: 5 });
    fail(d, "a", 5); // out until 100; first sweep due at 10
    fail(d, "b", 3);
    clock.advance(5);
    d.configure(cfg({ consecutive5xx: 4, intervalMs: 50 })); // sweeps re-armed from now: 55, 105
    expect(excluded(d)).toEqual(["a"]);
    fail(d, "b", 1); // out until 105
    expect(excluded(d)).toEqual(["a", "b"]);
    clock.advance(99);
    expect(excluded(d)).toEqual(["a", "b"]);
    clock.advance(1);
    expect(d.excluded().size).toBe(0);
    fail(d, "c", 4);
    expect(changes()).toBe(4); // a, b, both back at one sweep, c
    d.configure(cfg({ minHealthPercent: 100 })); // 3 of 4 healthy is now panic
    expect(d.stats().panic).toBe(true);
    expect(changes()).toBe(5);
  });

  test("onChange fires on ejection and on return, not on counting", () => {
    const { d, clock, changes } = setup();
    fail(d, "a", 2);
    expect(changes()).toBe(0);
    fail(d, "a", 1);
    expect(changes()).toBe(1);
    clock.advance(100);
    expect(changes()).toBe(2);
    clock.advance(100);
    expect(changes()).toBe(2);
  });

  test("stop clears the timer and makes the detector inert", () => {
    const { d, clock } = setup();
    fail(d, "a", 3);
    expect(clock.pending()).toBe(1);
    d.stop();
    expect(clock.pending()).toBe(0);
    fail(d, "b", 3);
    expect(clock.pending()).toBe(0);
    expect(excluded(d)).toEqual(["a"]);
  });

  test("default timers return an ejected endpoint and stop when idle", async () => {
    const d = createOutlierDetector(cfg({ intervalMs: 1, baseEjectionMs: 0, maxEjectionMs: 0 }));
    d.setEndpoints(["a", "b"]);
    fail(d, "a", 3);
    expect(excluded(d)).toEqual(["a"]);
    await new Promise((r) => setTimeout(r, 5));
    expect(d.excluded().size).toBe(0);
    d.stop();
  });
});
