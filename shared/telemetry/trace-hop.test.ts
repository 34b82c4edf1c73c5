// Unit tests for one hop's trace: the parent-based ratio decision, continuing W3C and B3 contexts, and what the
// upstream request carries afterwards (a traceparent naming this hop; no stale B3, no refused junk).
import { describe, expect, test } from "bun:test";
import { propagateTrace, traceHop } from "./trace-hop.ts";
import { parseTraceparent } from "./trace-context.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";
const h = (init: Record<string, string> = {}) => new Headers({ host: "echo", ...init });

describe("sampling decision", () => {
  test("a caller's decision wins over the ratio, both ways", () => {
    for (let i = 0; i < 50; i++) {
      expect(traceHop(h({ traceparent: `00-${TRACE}-${SPAN}-01` }), 0)?.sampled).toBe(true);
      expect(traceHop(h({ traceparent: `00-${TRACE}-${SPAN}-00` }), 1)?.sampled).toBe(false);
    }
  });

  test("a trace started here is sampled at the ratio", () => {
    let sampled = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) if (traceHop(h(), 0.1)!.sampled) sampled++;
    expect(sampled / n).toBeGreaterThan(0.08);
    expect(sampled / n).toBeLessThan(0.12);
    expect(traceHop(h(), 1)!.sampled).toBe(true);
  });

  test("rate 0 and no caller context: no trace at all", () => {
    expect(traceHop(h(), 0)).toBeUndefined();
  });

  test("rate 0 with originate: an unsampled trace starts, so the next member follows this decision", () => {
    const hop = traceHop(h(), 0, true);
    expect(hop).toMatchObject({ sampled: false, parentSpanId: undefined, from: undefined });
    expect(hop!.traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  test("rate 0 still continues a caller's trace (a mesh never breaks one), unsampled when the caller said so", () => {
    const hop = traceHop(h({ traceparent: `00-${TRACE}-${SPAN}-00` }), 0);
    expect(hop).toMatchObject({ traceId: TRACE, parentSpanId: SPAN, sampled: false });
    expect(hop!.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(hop!.spanId).not.toBe(SPAN);
  });

  test("B3 without a decision leaves it to the ratio; a bare B3 decision starts a trace with it", () => {
    expect(traceHop(h({ b3: `${TRACE}-${SPAN}` }), 1)).toMatchObject({ traceId: TRACE, parentSpanId: SPAN, sampled: true, from: "b3" });
    expect(traceHop(h({ b3: `${TRACE}-${SPAN}` }), 0)).toMatchObject({ traceId: TRACE, sampled: false });
    const denied = traceHop(h({ b3: "0" }), 1);
    expect(denied).toMatchObject({ parentSpanId: undefined, sampled: false });
    expect(denied!.traceId).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe("continuing a caller's context", () => {
  test("W3C wins over B3 when both are sent", () => {
    const hop = traceHop(h({ traceparent: `00-${TRACE}-${SPAN}-01`, b3: `${"a".repeat(32)}-${"b".repeat(16)}-0` }), 0);
    expect(hop).toMatchObject({ traceId: TRACE, parentSpanId: SPAN, sampled: true, from: "traceparent" });
  });

  test("an invalid traceparent is ignored and B3 is used", () => {
    const hop = traceHop(h({ traceparent: "ff-garbage", "x-b3-traceid": TRACE, "x-b3-spanid": SPAN, "x-b3-sampled": "1" }), 0);
    expect(hop).toMatchObject({ traceId: TRACE, parentSpanId: SPAN, sampled: true, from: "b3" });
  });

  test("the tracestate comes along only with a valid traceparent", () => {
    expect(traceHop(h({ traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: "a=1" }), 0)?.tracestate).toBe("a=1");
    expect(traceHop(h({ traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: "A=1" }), 0)?.tracestate).toBeUndefined();
    expect(traceHop(h({ traceparent: "00-bad", tracestate: "a=1" }), 1)?.tracestate).toBeUndefined();
  });
});

describe("propagation to the upstream request", () => {
  test("the upstream's traceparent names this hop's span as parent, same trace, same decision", () => {
    const headers = h({ traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: "congo=t61rcWkgMzE" });
    const hop = propagateTrace(headers, 0.01)!;
    expect(parseTraceparent(headers.get("traceparent")!)).toEqual({ traceId: TRACE, spanId: hop.spanId, sampled: true });
    expect(headers.get("tracestate")).toBe("congo=t61rcWkgMzE");
  });

  test("the hop's ids are the ones in the traceparent it sent, whether it continued a trace or started one", () => {
    const continued = h({ traceparent: `00-${TRACE}-${SPAN}-00` });
    const hop = propagateTrace(continued, 0.01)!;
    expect(hop).toMatchObject({ traceId: TRACE, parentSpanId: SPAN, sampled: false, tracestate: undefined, from: "traceparent" });
    expect(hop.traceparent).toBe(continued.get("traceparent")!);
    expect(hop.traceparent).toBe(`00-${TRACE}-${hop.spanId}-00`);
    expect(hop.spanId).toMatch(/^[0-9a-f]{16}$/);
    const started = h();
    const first = propagateTrace(started, 1)!;
    expect(first).toMatchObject({ parentSpanId: undefined, sampled: true, from: undefined });
    expect(started.get("traceparent")).toBe(`00-${first.traceId}-${first.spanId}-01`);
    expect(first.traceparent).toBe(started.get("traceparent")!);
    // A bare B3 decision starts the trace: it came "from" B3, with no parent.
    const b3 = h({ b3: "0" });
    expect(propagateTrace(b3, 1)).toMatchObject({ parentSpanId: undefined, sampled: false, from: "b3" });
  });

  test("a later version's traceparent goes upstream as version 00 with the same trace and decision", () => {
    const headers = h({ traceparent: `cc-${TRACE}-${SPAN}-01-what-the-future-holds` });
    const hop = propagateTrace(headers, 0)!;
    expect(headers.get("traceparent")).toBe(`00-${TRACE}-${hop.spanId}-01`);
    expect(hop).toMatchObject({ traceId: TRACE, parentSpanId: SPAN, sampled: true });
  });

  test("a trace started here goes upstream unsampled too, so the next member follows this decision", () => {
    const headers = h();
    const hop = propagateTrace(headers, 0.0000001)!;
    expect(hop.sampled).toBe(false);
    expect(headers.get("traceparent")).toBe(`00-${hop.traceId}-${hop.spanId}-00`);
  });

  test("tracing off and no context: the request is left exactly as it was", () => {
    const headers = h({ "x-other": "1" });
    expect(propagateTrace(headers, 0)).toBeUndefined();
    expect([...headers.keys()].sort()).toEqual(["host", "x-other"]);
  });

  test("B3 in, W3C out: the B3 headers are replaced by a traceparent", () => {
    const headers = h({ "x-b3-traceid": TRACE, "x-b3-spanid": SPAN, "x-b3-sampled": "1", "x-b3-parentspanid": "05e3ac9a4f6e3b90" });
    const hop = propagateTrace(headers, 0)!;
    expect(headers.get("traceparent")).toBe(`00-${TRACE}-${hop.spanId}-01`);
    expect([...headers.keys()].filter((k) => k.startsWith("x-b3"))).toEqual([]);
    const single = h({ b3: `${TRACE}-${SPAN}-1` });
    propagateTrace(single, 0);
    expect(single.get("b3")).toBeNull();
  });

  test("refused junk never travels on: with tracing off it is removed, with tracing on it is replaced", () => {
    const off = h({ traceparent: "00-zzzz", tracestate: "x=1", b3: "nonsense" });
    expect(propagateTrace(off, 0)).toBeUndefined();
    expect([...off.keys()]).toEqual(["host"]);
    const on = h({ traceparent: `ff-${TRACE}-${SPAN}-01`, tracestate: "x=1" });
    const hop = propagateTrace(on, 1)!;
    expect(hop.traceId).not.toBe(TRACE);
    expect(on.get("traceparent")).toBe(`00-${hop.traceId}-${hop.spanId}-01`);
    expect(on.get("tracestate")).toBeNull();
    const badState = h({ traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: "BAD STATE" });
    propagateTrace(badState, 0);
    expect(badState.get("tracestate")).toBeNull();
  });

  test("a lone tracestate without a traceparent does not ride on a new trace", () => {
    const headers = h({ tracestate: "a=1" });
    propagateTrace(headers, 1);
    expect(headers.get("tracestate")).toBeNull();
  });
});
