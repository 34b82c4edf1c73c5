// Unit tests for reading trace headers a caller sent: W3C traceparent and tracestate, B3 single and multi.
// Everything here is untrusted input: invalid values must come back as "nothing", never throw.
import { describe, expect, test } from "bun:test";
import {
  checkTracestate, formatTraceparent, newSpanId, newTraceId, newTraceparent, parseB3Multi, parseB3Single, parseTraceparent, traceparentSampled,
} from "./trace-context.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";

describe("traceparent", () => {
  test("a valid version-00 value, sampled or not", () => {
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01`)).toEqual({ traceId: TRACE, spanId: SPAN, sampled: true });
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-00`)).toEqual({ traceId: TRACE, spanId: SPAN, sampled: false });
    // Other flag bits are unknown to us; only the sampled bit counts.
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-03`)?.sampled).toBe(true);
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-02`)?.sampled).toBe(false);
  });

  test("a later version is read as version 00, extra fields ignored", () => {
    expect(parseTraceparent(`cc-${TRACE}-${SPAN}-01-what-the-future-holds`)).toEqual({ traceId: TRACE, spanId: SPAN, sampled: true });
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-01`)?.traceId).toBe(TRACE);
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-01x`)).toBeUndefined();
  });

  test.each([
    ["version ff", `ff-${TRACE}-${SPAN}-01`],
    ["all-zero trace id", `00-${"0".repeat(32)}-${SPAN}-01`],
    ["all-zero span id", `00-${TRACE}-${"0".repeat(16)}-01`],
    ["upper-case hex", `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ["version 00 with an extra field", `00-${TRACE}-${SPAN}-01-extra`],
    ["short trace id", `00-${TRACE.slice(1)}-${SPAN}-01`],
    ["long span id", `00-${TRACE}-${SPAN}0-01`],
    ["non-hex flags", `00-${TRACE}-${SPAN}-0g`],
    ["two headers folded into one", `00-${TRACE}-${SPAN}-01, 00-${TRACE}-${SPAN}-00`],
    ["empty", ""],
    ["garbage", "\u0000<script>\u00ff"],
    ["a huge value", `00-${TRACE}-${SPAN}-01`.padEnd(100_000, "x")],
  ])("%s is refused", (_name, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
    expect(traceparentSampled(value)).toBeUndefined();
  });

  test("traceparentSampled is parseTraceparent's flag, without the ids", () => {
    for (const flags of ["00", "01", "02", "03", "fe", "ff"]) {
      for (const v of [`00-${TRACE}-${SPAN}-${flags}`, `cc-${TRACE}-${SPAN}-${flags}-later`]) {
        expect(traceparentSampled(v)).toBe(parseTraceparent(v)!.sampled!);
      }
    }
  });

  test("formatting round-trips", () => {
    expect(formatTraceparent(TRACE, SPAN, true)).toBe(`00-${TRACE}-${SPAN}-01`);
    expect(parseTraceparent(formatTraceparent(TRACE, SPAN, false))).toEqual({ traceId: TRACE, spanId: SPAN, sampled: false });
  });
});

describe("tracestate", () => {
  test("valid lists travel unchanged, empty members allowed", () => {
    expect(checkTracestate("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7")).toBe("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
    expect(checkTracestate("tenant@vendor=x, ,a=b")).toBe("tenant@vendor=x, ,a=b");
  });

  test("invalid lists are dropped whole", () => {
    expect(checkTracestate("")).toBeUndefined();
    expect(checkTracestate("Upper=x")).toBeUndefined();
    expect(checkTracestate("a=b,novalue")).toBeUndefined();
    expect(checkTracestate("a=has,comma=")).toBeUndefined();
    expect(checkTracestate("a=ctl\u0001")).toBeUndefined();
    expect(checkTracestate(`a=${"x".repeat(600)}`)).toBeUndefined();
    expect(checkTracestate(Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(","))).toBeUndefined();
  });
});

describe("B3", () => {
  test("single header: ids, decision, debug, parent span id", () => {
    expect(parseB3Single(`${TRACE}-${SPAN}-1`)).toEqual({ traceId: TRACE, spanId: SPAN, sampled: true });
    expect(parseB3Single(`${TRACE}-${SPAN}-0`)).toEqual({ traceId: TRACE, spanId: SPAN, sampled: false });
    expect(parseB3Single(`${TRACE}-${SPAN}-d`)).toEqual({ traceId: TRACE, spanId: SPAN, sampled: true });
    expect(parseB3Single(`${TRACE}-${SPAN}-1-05e3ac9a4f6e3b90`)).toEqual({ traceId: TRACE, spanId: SPAN, sampled: true });
    // No decision: the receiver decides.
    expect(parseB3Single(`${TRACE}-${SPAN}`)).toEqual({ traceId: TRACE, spanId: SPAN, sampled: undefined });
  });

  test("single header: a 64-bit trace id is left-padded to 128 bits", () => {
    expect(parseB3Single(`a3ce929d0e0e4736-${SPAN}-1`)).toEqual({ traceId: "0000000000000000a3ce929d0e0e4736", spanId: SPAN, sampled: true });
  });

  test("single header: a bare decision", () => {
    expect(parseB3Single("1")).toBe(true);
    expect(parseB3Single("d")).toBe(true);
    expect(parseB3Single("0")).toBe(false);
    expect(parseB3Single("2")).toBeUndefined();
  });

  test.each([
    `${"0".repeat(32)}-${SPAN}-1`,
    `${TRACE}-${"0".repeat(16)}-1`,
    `${TRACE}-${SPAN}-x`,
    `${TRACE.toUpperCase()}-${SPAN}-1`,
    `${TRACE}-${SPAN}-1-zz`,
    `${TRACE.slice(2)}-${SPAN}`,
    "",
    "garbage",
  ])("single header %p is refused", (value) => {
    expect(parseB3Single(value)).toBeUndefined();
  });

  test("multi headers", () => {
    expect(parseB3Multi(TRACE, SPAN, "1", null)).toEqual({ traceId: TRACE, spanId: SPAN, sampled: true });
    expect(parseB3Multi(TRACE, SPAN, "0", null)).toEqual({ traceId: TRACE, spanId: SPAN, sampled: false });
    expect(parseB3Multi(TRACE, SPAN, "true", null)).toEqual({ traceId: TRACE, spanId: SPAN, sampled: true });
    expect(parseB3Multi(TRACE, SPAN, null, "1")).toEqual({ traceId: TRACE, spanId: SPAN, sampled: true });
    expect(parseB3Multi(TRACE, SPAN, null, null)).toEqual({ traceId: TRACE, spanId: SPAN, sampled: undefined });
    expect(parseB3Multi("a3ce929d0e0e4736", SPAN, "1", null)).toEqual({ traceId: "0000000000000000a3ce929d0e0e4736", spanId: SPAN, sampled: true });
    expect(parseB3Multi(null, null, "0", null)).toBe(false);
    expect(parseB3Multi(null, null, null, null)).toBeUndefined();
  });

  test("multi headers: a trace id without a span id, or bad hex, is no context", () => {
    expect(parseB3Multi(TRACE, null, "1", null)).toBeUndefined();
    expect(parseB3Multi(null, SPAN, "1", null)).toBeUndefined();
    expect(parseB3Multi("xyz", SPAN, "1", null)).toBeUndefined();
    expect(parseB3Multi(TRACE, "0".repeat(16), "1", null)).toBeUndefined();
    expect(parseB3Multi("0".repeat(16), SPAN, "1", null)).toBeUndefined();
  });
});

describe("ids", () => {
  test("lower-case hex of the right length, never all zeros, not repeating", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const t = newTraceId();
      const s = newSpanId();
      expect(t).toMatch(/^[0-9a-f]{32}$/);
      expect(s).toMatch(/^[0-9a-f]{16}$/);
      seen.add(t);
    }
    expect(seen.size).toBe(2000);
  });
});

describe("new traceparents", () => {
  test("version 00, fresh lower-case ids never all zeros, the flag as asked; across many refills of the pool", () => {
    const traces = new Set<string>();
    const spans = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const sampled = i % 7 === 0;
      const tp = newTraceparent(sampled);
      expect(tp).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
      expect(parseTraceparent(tp)).toEqual({ traceId: tp.slice(3, 35), spanId: tp.slice(36, 52), sampled });
      traces.add(tp.slice(3, 35));
      spans.add(tp.slice(36, 52));
    }
    expect(traces.size).toBe(1000);
    expect(spans.size).toBe(1000);
  });
});
