// Finished spans as an OTLP/HTTP JSON export request (ExportTraceServiceRequest): resource → scope → spans, ids as
// hex, times as nanosecond strings, enums as numbers. Written by hand: see otlp-exporter.ts for why.
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import type { AttributeValue, Attributes, HrTime } from "@opentelemetry/api";

type AnyValue = { stringValue: string } | { boolValue: boolean } | { intValue: string } | { doubleValue: number } | { arrayValue: { values: AnyValue[] } } | Record<string, never>;
type KeyValue = { key: string; value: AnyValue };

function anyValue(v: AttributeValue | null | undefined): AnyValue {
  if (typeof v === "string") return { stringValue: v };
  if (typeof v === "boolean") return { boolValue: v };
  // int64 goes as a decimal string in proto3 JSON.
  if (typeof v === "number") return Number.isSafeInteger(v) ? { intValue: String(v) } : { doubleValue: v };
  if (Array.isArray(v)) return { arrayValue: { values: v.map((x) => anyValue(x)) } };
  return {};
}

function keyValues(attrs: Attributes | undefined): KeyValue[] {
  const out: KeyValue[] = [];
  for (const key in attrs) {
    const v = attrs[key];
    if (v !== undefined) out.push({ key, value: anyValue(v) });
  }
  return out;
}

function nanos([s, ns]: HrTime): string {
  return s === 0 ? String(ns) : `${s}${String(ns).padStart(9, "0")}`;
}

/** OTLP's flag bits beside the W3C ones: 0x100 says whether the parent was remote is known, 0x200 that it was. */
const HAS_IS_REMOTE = 0x100;
const IS_REMOTE = 0x200;

function otlpSpan(s: ReadableSpan): Record<string, unknown> {
  const c = s.spanContext();
  const parent = s.parentSpanContext;
  const out: Record<string, unknown> = {
    traceId: c.traceId,
    spanId: c.spanId,
    name: s.name,
    kind: s.kind + 1, // the API counts from INTERNAL = 0; OTLP keeps 0 for "unspecified"
    startTimeUnixNano: nanos(s.startTime),
    endTimeUnixNano: nanos(s.endTime),
    attributes: keyValues(s.attributes),
    droppedAttributesCount: s.droppedAttributesCount,
    events: s.events.map((e) => ({ timeUnixNano: nanos(e.time), name: e.name, attributes: keyValues(e.attributes), droppedAttributesCount: e.droppedAttributesCount ?? 0 })),
    droppedEventsCount: s.droppedEventsCount,
    droppedLinksCount: s.droppedLinksCount,
    status: s.status.message === undefined ? { code: s.status.code } : { code: s.status.code, message: s.status.message },
    flags: (c.traceFlags & 0xff) | HAS_IS_REMOTE | (parent?.isRemote === true ? IS_REMOTE : 0),
  };
  if (parent !== undefined) out.parentSpanId = parent.spanId;
  const state = c.traceState?.serialize();
  if (state !== undefined && state !== "") out.traceState = state;
  return out;
}

/** Groups spans by resource and instrumentation scope (one of each per member in practice). */
export function otlpTraceRequest(spans: readonly ReadableSpan[]): { resourceSpans: unknown[] } {
  const byResource = new Map<ReadableSpan["resource"], Map<string, { scope: ReadableSpan["instrumentationScope"]; spans: unknown[] }>>();
  for (const s of spans) {
    let scopes = byResource.get(s.resource);
    if (scopes === undefined) byResource.set(s.resource, (scopes = new Map()));
    const key = `${s.instrumentationScope.name}@${s.instrumentationScope.version ?? ""}`;
    let scope = scopes.get(key);
    if (scope === undefined) scopes.set(key, (scope = { scope: s.instrumentationScope, spans: [] }));
    scope.spans.push(otlpSpan(s));
  }
  return {
    resourceSpans: [...byResource].map(([resource, scopes]) => ({
      resource: { attributes: keyValues(resource.attributes as Attributes) },
      scopeSpans: [...scopes.values()].map((s) => ({ scope: { name: s.scope.name, ...(s.scope.version === undefined ? {} : { version: s.scope.version }) }, spans: s.spans })),
    })),
  };
}
