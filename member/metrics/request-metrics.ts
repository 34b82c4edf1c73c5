// The hub subscriber for RED metrics: requests, durations, retries and authorization per request event; upstream
// tries per attempt event. Per event: nested map lookups by the event's fields, a few field increments (no key string).
import type { Observer, RequestEvent, AttemptEvent } from "../../shared/telemetry/observe.ts";
import {
  ATTEMPT_DURATION_LABELS, ATTEMPT_LABELS, AUTHZ_LABELS, DURATION_BUCKETS, DURATION_LABELS, REQUEST_LABELS, RETRY_LABELS,
  attemptLabels, authzLabels, labelContext, requestLabels, sideOf, splitCluster, type Side,
} from "../../shared/telemetry/metric-labels.ts";
import { AttemptLabelCache, RequestLabelCache } from "../../shared/telemetry/label-cache.ts";
import { SeriesCounter, SeriesHistogram, type CounterChild, type HistogramChild } from "./series.ts";
import type { MetricsRegistry } from "./registry.ts";

/** The caches map raw event fields to children; past this many keys they start over (the series stay). */
const CACHE_LIMIT = 4096;

type RequestSeries = { requests: CounterChild; duration: HistogramChild; retries: CounterChild | undefined };
type AttemptSeries = { attempts: CounterChild; duration: HistogramChild };

export function requestMetrics(registry: MetricsRegistry, o: { service: string; trustDomain: string; attemptSide: Side }): Observer {
  const requests = registry.register(new SeriesCounter("mesh_requests_total", "Downstream requests by side, route, destination, caller, status class and the mesh's own error cause.", REQUEST_LABELS));
  const duration = registry.register(new SeriesHistogram("mesh_request_duration_seconds", "Time from a request's arrival until its response head was ready.", DURATION_LABELS, DURATION_BUCKETS));
  const retries = registry.register(new SeriesCounter("mesh_upstream_retries_total", "Upstream tries after the first, by destination service.", RETRY_LABELS));
  const upstream = registry.register(new SeriesCounter("mesh_upstream_requests_total", "Upstream tries by destination and how each ended.", ATTEMPT_LABELS));
  const upstreamDuration = registry.register(new SeriesHistogram("mesh_upstream_request_duration_seconds", "Duration of each upstream try until its response head (or failure).", ATTEMPT_DURATION_LABELS, DURATION_BUCKETS));
  const faults = registry.register(new SeriesCounter("mesh_fault_injections_total", "Requests fault injection delayed or aborted, by side, destination service and what was injected.", ["side", "destination_service", "fault"]));
  const authz = registry.register(new SeriesCounter("mesh_authz_decisions_total", "Inbound authorization verdicts by decision and the rule that decided (or default).", AUTHZ_LABELS));

  const ctx = labelContext(o.service, o.trustDomain);
  const requestCache = new RequestLabelCache<RequestSeries>(CACHE_LIMIT);
  const attemptCache = new AttemptLabelCache<AttemptSeries>(CACHE_LIMIT);
  // By rule name, one map per verdict: no "+rule" string per request.
  const authzCache = { allowed: new Map<string, CounterChild>(), denied: new Map<string, CounterChild>() };

  const requestMiss = (e: RequestEvent): RequestSeries => {
    const l = requestLabels(e, ctx);
    // The inbound side forwards to its app and never retries: no retry series for it.
    const s = { requests: requests.child(l.requests), duration: duration.child(l.duration), retries: l.side === "inbound" ? undefined : retries.child(l.retries) };
    requestCache.set(e, s);
    return s;
  };
  const attemptMiss = (e: AttemptEvent): AttemptSeries => {
    const l = attemptLabels(e, o.attemptSide, ctx);
    const s = { attempts: upstream.child(l.attempts), duration: upstreamDuration.child(l.duration) };
    attemptCache.set(e, s);
    return s;
  };
  const authzChild = (v: { readonly allowed: boolean; readonly rule: string }): CounterChild => {
    const cache = v.allowed ? authzCache.allowed : authzCache.denied;
    let c = cache.get(v.rule);
    if (c === undefined) {
      if (cache.size >= CACHE_LIMIT) cache.clear();
      cache.set(v.rule, (c = authz.child(authzLabels(v, ctx))));
    }
    return c;
  };

  return {
    request(e) {
      const s = requestCache.get(e) ?? requestMiss(e);
      s.requests.inc();
      s.duration.observe(e.durationMs / 1000);
      // The retry filter counts tries per request; attempt events can't tell a re-try of the same endpoint.
      if (e.attempts > 1 && s.retries !== undefined) s.retries.inc(e.attempts - 1);
      if (e.authz !== undefined) authzChild(e.authz).inc();
      // Rare by design (faults are for tests): the labels are built when it happens, not cached.
      if (e.fault !== undefined) faults.child([sideOf(e.listener), e.listener === "inbound" ? o.service : splitCluster(e.cluster)[0], e.fault]).inc();
    },
    attempt(e) {
      const s = attemptCache.get(e) ?? attemptMiss(e);
      s.attempts.inc();
      s.duration.observe(e.durationMs / 1000);
    },
  };
}
