// One hop's span in a trace: continue the caller's context (W3C first, then B3) or start a trace, decide sampling
// (parent-based, else a ratio), and hand the upstream a traceparent whose parent is this hop's span.
import type { HopTrace } from "../types.ts";
import type { HeaderMap } from "../http/field-list.ts";
import { checkTracestate, formatTraceparent, newSpanId, newTraceId, parseB3Multi, parseB3Single, parseTraceparent, type WireContext } from "./trace-context.ts";

const B3_HEADERS = ["b3", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags"] as const;
const ALL_HEADERS = ["traceparent", "tracestate", ...B3_HEADERS] as const;

/** The caller's valid traceparent continued: the common case between members, so it builds one object and no other. */
function fromTraceparent(ctx: WireContext, tracestate: string | undefined): HopTrace {
  return { traceId: ctx.traceId, spanId: newSpanId(), parentSpanId: ctx.spanId, sampled: ctx.sampled === true, tracestate, from: "traceparent" };
}

/** Without a valid traceparent: B3 (either form), a bare B3 decision, or nothing; `refused` says junk was sent. */
type Other = { readonly ctx: WireContext | undefined; readonly decision: boolean | undefined; readonly b3: boolean; readonly refused: boolean };

function readOther(headers: HeaderMap, refusedTraceparent: boolean): Other | undefined {
  let refused = refusedTraceparent;
  const single = headers.get("b3");
  let b3 = single === null ? undefined : parseB3Single(single);
  if (single !== null && b3 === undefined) refused = true;
  if (b3 === undefined) {
    const traceId = headers.get("x-b3-traceid");
    const sampled = headers.get("x-b3-sampled");
    if (traceId !== null || sampled !== null) {
      b3 = parseB3Multi(traceId, headers.get("x-b3-spanid"), sampled, headers.get("x-b3-flags"));
      if (b3 === undefined) refused = true;
    }
  }
  if (b3 === undefined) return refused ? { ctx: undefined, decision: undefined, b3: false, refused } : undefined;
  if (typeof b3 === "boolean") return { ctx: undefined, decision: b3, b3: true, refused };
  return { ctx: b3, decision: b3.sampled, b3: true, refused };
}

/** The sampling decision for a trace this hop starts; undefined when none starts here (rate 0, not originating). */
function decide(rate: number, originate: boolean): boolean | undefined {
  if (rate > 0) return Math.random() < rate;
  return originate ? false : undefined;
}

function fromOther(other: Other | undefined, rate: number, originate: boolean): HopTrace | undefined {
  const ctx = other?.ctx;
  const from = other?.b3 === true ? "b3" : undefined;
  if (ctx !== undefined) {
    // A B3 context without a decision (B3 lets the receiver decide) keeps its ids; the ratio decides, off = unsampled.
    return { traceId: ctx.traceId, spanId: newSpanId(), parentSpanId: ctx.spanId, sampled: ctx.sampled ?? decide(rate, false) ?? false, tracestate: undefined, from };
  }
  // Unsampled traces are started too: the members behind this one must follow this decision, not make their own.
  const sampled = other?.decision ?? decide(rate, originate);
  if (sampled === undefined) return undefined; // tracing off here and nothing to continue: nothing generated or written
  return { traceId: newTraceId(), spanId: newSpanId(), parentSpanId: undefined, sampled, tracestate: undefined, from };
}

/**
 * This hop's trace, or undefined when there is none: no usable incoming context and `rate` 0. `rate` is the
 * probability of sampling a trace this hop starts; a caller's decision always wins (parent-based). `originate` starts
 * an unsampled trace even at rate 0: for a route whose own sampling is 0 in a mesh that samples elsewhere, so the
 * members behind it follow this route's "no" instead of starting traces of their own.
 */
export function traceHop(headers: HeaderMap, rate: number, originate = rate > 0): HopTrace | undefined {
  const tp = headers.get("traceparent");
  const ctx = tp === null ? undefined : parseTraceparent(tp);
  if (ctx !== undefined) {
    const ts = headers.get("tracestate");
    return fromTraceparent(ctx, ts === null ? undefined : checkTracestate(ts));
  }
  return fromOther(readOther(headers, tp !== null), rate, originate);
}

/**
 * traceHop, then the upstream request's headers (edited in place): a traceparent naming this hop's span, the caller's
 * tracestate when valid, and no B3 or refused trace headers. With no trace, refused junk is removed and nothing added.
 */
export function propagateTrace(headers: HeaderMap, rate: number, originate = rate > 0): HopTrace | undefined {
  const tp = headers.get("traceparent");
  const ctx = tp === null ? undefined : parseTraceparent(tp);
  if (ctx !== undefined) {
    const ts = headers.get("tracestate");
    const tracestate = ts === null ? undefined : checkTracestate(ts);
    const hop = fromTraceparent(ctx, tracestate);
    headers.set("traceparent", formatTraceparent(hop.traceId, hop.spanId, hop.sampled));
    if (ts !== null && tracestate === undefined) headers.delete("tracestate"); // a tracestate is kept only when valid
    return hop;
  }
  const other = readOther(headers, tp !== null);
  const hop = fromOther(other, rate, originate);
  if (hop === undefined) {
    if (other !== undefined) for (const name of ALL_HEADERS) headers.delete(name); // refused junk, nothing to continue
    return undefined;
  }
  headers.set("traceparent", formatTraceparent(hop.traceId, hop.spanId, hop.sampled));
  // A tracestate belongs to the traceparent it came with; this trace has none (a new one, or continued from B3).
  headers.delete("tracestate");
  // Upstream speaks W3C only: B3 headers we continued (or refused) would name a span that is no longer the parent.
  if (other !== undefined) for (const name of B3_HEADERS) headers.delete(name);
  return hop;
}
