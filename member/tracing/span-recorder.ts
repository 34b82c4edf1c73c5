// Builds SDK spans after the fact from the core's events, for sampled hops only: one span per request and member
// (server at the gateway and the inbound sidecar, client at the outbound sidecar), each upstream attempt an event on it.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, createTraceState, trace, type Attributes, type Tracer } from "@opentelemetry/api";
import type { Observer, RequestEvent } from "../../shared/telemetry/observe.ts";
import type { AttemptEvent } from "../../shared/types.ts";
import { parseSpiffeId } from "../../shared/pki/spiffe.ts";
import type { PresetIds } from "./preset-ids.ts";

/** Attempts wait here for their request's event; bounded, since an attempt can outlive a request that timed out. */
const MAX_PENDING = 1024;

type Attempt = { readonly e: AttemptEvent; readonly endedAt: number };

/** "echo/v1" → "echo": the destination service of a cluster. */
const serviceOf = (cluster: string | undefined): string | undefined => cluster?.split("/", 1)[0];

/**
 * Envoy's default operation names, "ingress" and "egress <host>", narrowed the way a route decorator would: the
 * gateway names the route, the inbound its own service, the outbound the destination service.
 */
function spanName(e: RequestEvent, service: string): string {
  if (e.listener === "inbound") return `ingress ${service}`;
  if (e.listener === "outbound") {
    const to = serviceOf(e.cluster) ?? e.route;
    return to === undefined ? "egress" : `egress ${to}`;
  }
  return e.route === undefined ? "ingress" : `ingress ${e.route}`;
}

function attributesOf(e: RequestEvent, kind: SpanKind, last: AttemptEvent | undefined): Attributes {
  const q = e.path.indexOf("?");
  const a: Attributes = {
    "http.request.method": e.method,
    // Never the query: it may carry tokens. The path is capped by the provider's attribute length limit.
    "url.path": q < 0 ? e.path : e.path.slice(0, q),
    "http.response.status_code": e.status,
    "mesh.request_id": e.requestId,
  };
  if (e.route !== undefined) a["mesh.route"] = e.route;
  if (e.cluster !== undefined) a["mesh.cluster"] = e.cluster;
  if (e.endpoint !== undefined) a["mesh.endpoint"] = e.endpoint;
  if (e.attempts > 0) a["mesh.attempts"] = e.attempts;
  if (e.cause !== undefined) a["mesh.error"] = e.cause;
  if (e.bytesIn !== undefined) a["http.request.body.size"] = e.bytesIn;
  if (e.bytesOut !== undefined) a["http.response.body.size"] = e.bytesOut;
  if (kind === SpanKind.CLIENT) {
    const to = serviceOf(e.cluster);
    if (to !== undefined) a["peer.service"] = to;
    if (last !== undefined) {
      a["server.address"] = last.endpoint.address;
      a["server.port"] = last.endpoint.port;
    }
  }
  if (e.listener === "inbound" && e.peer !== undefined) {
    // The caller as its verified certificate names it: the one peer fact on an inbound that no header can fake.
    const caller = parseSpiffeId(e.peer)?.service;
    if (caller !== undefined) a["peer.service"] = caller;
    a["mesh.peer.spiffe_id"] = e.peer;
  }
  if (e.authz !== undefined) {
    a["mesh.authz.allowed"] = e.authz.allowed;
    a["mesh.authz.rule"] = e.authz.rule;
  }
  return a;
}

function attemptAttributes(e: AttemptEvent): Attributes {
  const a: Attributes = { "mesh.try": e.try, "mesh.cluster": e.cluster, "mesh.endpoint": e.endpoint.id, "server.address": e.endpoint.address, "server.port": e.endpoint.port, "mesh.outcome": e.outcome };
  if (e.status !== undefined) a["http.response.status_code"] = e.status;
  return a;
}

/** OpenTelemetry's HTTP rules: a server span fails on 5xx; a client span on any 4xx or 5xx it got back. */
const failed = (kind: SpanKind, status: number): boolean => status >= 500 || (kind === SpanKind.CLIENT && status >= 400);

/** The observer that records spans; `service` names the member's own service (inbound span names). */
export function spanRecorder(o: { tracer: Tracer; ids: PresetIds; service: string }): Observer {
  const pending = new Map<string, Attempt[]>();
  return {
    attempt(e) {
      const t = e.trace;
      if (t === undefined || !t.sampled) return;
      let list = pending.get(t.spanId);
      if (list === undefined) {
        if (pending.size >= MAX_PENDING) pending.delete(pending.keys().next().value!);
        list = [];
        pending.set(t.spanId, list);
      }
      list.push({ e, endedAt: performance.now() });
    },
    request(e) {
      const t = e.trace;
      if (t === undefined || !t.sampled) return;
      const attempts = pending.get(t.spanId);
      if (attempts !== undefined) pending.delete(t.spanId);
      const kind = e.listener === "outbound" ? SpanKind.CLIENT : SpanKind.SERVER;
      const parent = t.parentSpanId === undefined
        ? ROOT_CONTEXT
        : trace.setSpanContext(ROOT_CONTEXT, {
            traceId: t.traceId,
            spanId: t.parentSpanId,
            traceFlags: TraceFlags.SAMPLED,
            isRemote: true,
            traceState: t.tracestate === undefined ? undefined : createTraceState(t.tracestate),
          });
      o.ids.preset(t.traceId, t.spanId);
      // Times are the core's performance.now() readings; the SDK maps them onto the wall clock.
      const span = o.tracer.startSpan(spanName(e, o.service), { kind, startTime: e.startedAt, attributes: attributesOf(e, kind, attempts?.at(-1)?.e) }, parent);
      for (const a of attempts ?? []) span.addEvent("attempt", attemptAttributes(a.e), a.endedAt - a.e.durationMs);
      if (failed(kind, e.status)) span.setStatus({ code: SpanStatusCode.ERROR, message: e.cause ?? `HTTP ${e.status}` });
      span.end(e.startedAt + e.durationMs);
    },
  };
}
