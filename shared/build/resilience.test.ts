// Unit tests for turning resilience config into runtime numbers: breaker limits and outlier settings with Envoy's
// defaults filled in and durations parsed, and the rates, statuses and delays of a compiled fault.
import { describe, expect, test } from "bun:test";
import { DEFAULTS } from "../config/defaults.ts";
import { breakerLimits, compileFault, outlierConfig } from "./resilience.ts";

describe("breakerLimits", () => {
  test("an empty block gets Envoy's defaults", () => {
    expect(breakerLimits({})).toEqual({ maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 });
    expect(breakerLimits({})).toEqual(DEFAULTS.circuitBreaker);
  });

  test("given fields win, the rest are defaulted; 0 is a value, not 'unset'", () => {
    expect(breakerLimits({ maxConnections: 10, maxRetries: 0 })).toEqual({ maxConnections: 10, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 0 });
    expect(breakerLimits({ maxPendingRequests: 0, maxRequests: 5 })).toEqual({ maxConnections: 1024, maxPendingRequests: 0, maxRequests: 5, maxRetries: 3 });
  });
});

describe("outlierConfig", () => {
  test("an empty block: consecutive5xx 5, Envoy's times and percentages, durations in ms", () => {
    expect(outlierConfig({})).toEqual({
      consecutive5xx: 5,
      consecutiveGatewayErrors: undefined,
      intervalMs: 10_000,
      baseEjectionMs: 30_000,
      maxEjectionMs: 300_000,
      maxEjectionPercent: 10,
      minHealthPercent: 50,
    });
  });

  test("the consecutive5xx default applies only when neither error count is set", () => {
    // Asking for gateway errors alone must not quietly switch on 5xx ejection as well.
    expect(outlierConfig({ consecutiveGatewayErrors: 3 })).toMatchObject({ consecutive5xx: undefined, consecutiveGatewayErrors: 3 });
    expect(outlierConfig({ consecutive5xx: 2 })).toMatchObject({ consecutive5xx: 2, consecutiveGatewayErrors: undefined });
    expect(outlierConfig({ consecutive5xx: 7, consecutiveGatewayErrors: 3 })).toMatchObject({ consecutive5xx: 7, consecutiveGatewayErrors: 3 });
  });

  test("durations are parsed in every unit; percentages are kept, 0 included", () => {
    expect(outlierConfig({ interval: "250ms", baseEjectionTime: "2s", maxEjectionTime: "2m", maxEjectionPercent: 0, minHealthPercent: 0 })).toMatchObject({
      intervalMs: 250,
      baseEjectionMs: 2000,
      maxEjectionMs: 120_000,
      maxEjectionPercent: 0,
      minHealthPercent: 0,
    });
  });
});

describe("compileFault: the numbers", () => {
  const opts = { trustDomain: "mesh", namespace: "default", self: "api", instance: undefined, side: "inbound" as const };

  test("percentages become 0..1 rates; no percent means every request", () => {
    const f = compileFault({ delay: { fixed: "250ms", percent: 25 }, abort: { status: 500, percent: 5 } }, opts)!;
    expect(f).toMatchObject({ delayMs: 250, delayRate: 0.25, abort: { status: 500 }, abortRate: 0.05 });
    expect(compileFault({ delay: { fixed: "1s" }, abort: {} }, opts)).toMatchObject({ delayMs: 1000, delayRate: 1, abort: { status: 503 }, abortRate: 1 });
  });

  test("a missing part is off: rate 0", () => {
    expect(compileFault({ delay: { fixed: "1s" } }, opts)).toMatchObject({ abort: undefined, abortRate: 0, delayRate: 1 });
    expect(compileFault({ abort: { reset: true } }, opts)).toMatchObject({ delayMs: 0, delayRate: 0, abort: { reset: true }, abortRate: 1 });
  });

  test("no `when`: no header test and any caller", () => {
    const f = compileFault({ abort: {} }, opts)!;
    expect(f.headers).toBeUndefined();
    expect(f.from).toBeUndefined();
  });

  test("header conditions become one predicate over Headers (names in any case)", () => {
    const f = compileFault({ abort: {}, when: { headers: [{ name: "X-Canary", exact: "1" }, { name: "x-debug", present: false }] } }, opts)!;
    expect(f.headers!(new Headers({ "x-canary": "1" }))).toBe(true);
    expect(f.headers!(new Headers({ "x-canary": "1", "x-debug": "y" }))).toBe(false);
    expect(f.headers!(new Headers({ "x-canary": "2" }))).toBe(false);
  });
});
