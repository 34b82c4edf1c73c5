// One hop's span in a trace: continue the caller's context (W3C first, then B3) or start a trace, decide sampling
// (parent-based, else a ratio), and hand the upstream a traceparent whose parent is this hop's span.
import type { HopTrace } from "../types.ts";
import type { HeaderMap } from "../http/field-list.ts";
import {
  checkTracestate, formatTraceparent, newSpanId, newTraceId, newTraceparent, parseB3Multi, parseB3Single, parseTraceparent, traceparentSampled,
  type WireContext,
} from "./trace-context.ts";

const B3_HEADERS = ["b3", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags"] as const;
const ALL_HEADERS = ["traceparent", "tracestate", ...B3_HEADERS] as const;

/** The caller's valid traceparent continued, for traceHop (a request refused before it was forwarded: read to record). */
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
 * A hop whose ids are read out of the traceparent it sends upstream, and out of the caller's, only when asked: most
 * requests are unsampled, and their ids are only ever copied into an access line (access-line-bytes.ts reads them
 * from `traceparent` in place). Four strings and an object fewer per request than ids sliced up front.
 */
class WireHop implements HopTrace {
  constructor(
    readonly traceparent: string,
    /** The caller's valid traceparent, when this hop continues it. */
    private readonly caller: string | undefined,
    readonly sampled: boolean,
    readonly tracestate: string | undefined,
    readonly from: "traceparent" | "b3" | undefined,
  ) {}
  get traceId(): string {
    return this.traceparent.slice(3, 35);
  }
  get spanId(): string {
    return this.traceparent.slice(36, 52);
  }
  get parentSpanId(): string | undefined {
    return this.caller?.slice(36, 52);
  }
}

/** The caller's trace id and decision with this hop's new span, as version 00 whatever version the caller sent. */
function continued(caller: string, sampled: boolean): string {
  const prefix = caller.charCodeAt(0) === 48 && caller.charCodeAt(1) === 48 ? caller.slice(0, 36) : `00${caller.slice(2, 36)}`;
  return `${prefix}${newSpanId()}${sampled ? "-01" : "-00"}`;
}

/**
 * traceHop, then the upstream request's headers (edited in place): a traceparent naming this hop's span, the caller's
 * tracestate when valid, and no B3 or refused trace headers. With no trace, refused junk is removed and nothing added.
 */
export function propagateTrace(headers: HeaderMap, rate: number, originate = rate > 0): HopTrace | undefined {
  const tp = headers.get("traceparent");
  const callerSampled = tp === null ? undefined : traceparentSampled(tp);
  if (callerSampled !== undefined) {
    const ts = headers.get("tracestate");
    const tracestate = ts === null ? undefined : checkTracestate(ts);
    const up = continued(tp!, callerSampled);
    headers.set("traceparent", up);
    if (ts !== null && tracestate === undefined) headers.delete("tracestate"); // a tracestate is kept only when valid
    return new WireHop(up, tp!, callerSampled, tracestate, "traceparent");
  }
  const other = readOther(headers, tp !== null);
  if (other?.ctx !== undefined) {
    // Continued from B3 (rare between members, which send W3C): the ids come from B3 headers, so a plain hop.
    const hop = fromOther(other, rate, originate)!;
    headers.set("traceparent", formatTraceparent(hop.traceId, hop.spanId, hop.sampled));
    headers.delete("tracestate");
    for (const name of B3_HEADERS) headers.delete(name);
    return hop;
  }
  // Unsampled traces are started too: the members behind this one must follow this decision, not make their own.
  const sampled = other?.decision ?? decide(rate, originate);
  if (sampled === undefined) {
    if (other !== undefined) for (const name of ALL_HEADERS) headers.delete(name); // refused junk, nothing to continue
    return undefined;
  }
  const up = newTraceparent(sampled);
  headers.set("traceparent", up);
  // A tracestate belongs to the traceparent it came with; this trace has none (a new one, or continued from B3).
  headers.delete("tracestate");
  // Upstream speaks W3C only: B3 headers we continued (or refused) would name a span that is no longer the parent.
  if (other !== undefined) for (const name of B3_HEADERS) headers.delete(name);
  return new WireHop(up, undefined, sampled, undefined, other?.b3 === true ? "b3" : undefined);
}
