// Turns the resilience kinds of a validated policy into the numbers the runtime state takes (defaults applied,
// durations parsed), once per snapshot: breaker limits and outlier settings per cluster, retry budgets, faults.
import type { CircuitBreakerConfig, FaultPolicyConfig, OutlierDetectionConfig } from "../config/schema.ts";
import type { BreakerLimits } from "../upstream/circuit-breaker.ts";
import type { OutlierConfig } from "../upstream/outlier-detection.ts";
import type { CompiledFault } from "../filters/fault.ts";
import { parseDuration } from "../config/duration.ts";
import { DEFAULTS } from "../config/defaults.ts";
import { compileHeadersMatch } from "../routing/match-conditions.ts";
import { formatSpiffeId } from "../pki/spiffe.ts";

export function breakerLimits(c: CircuitBreakerConfig): BreakerLimits {
  const d = DEFAULTS.circuitBreaker;
  return {
    maxConnections: c.maxConnections ?? d.maxConnections,
    maxPendingRequests: c.maxPendingRequests ?? d.maxPendingRequests,
    maxRequests: c.maxRequests ?? d.maxRequests,
    maxRetries: c.maxRetries ?? d.maxRetries,
  };
}

export function outlierConfig(c: OutlierDetectionConfig): OutlierConfig {
  const d = DEFAULTS.outlierDetection;
  const neither = c.consecutive5xx === undefined && c.consecutiveGatewayErrors === undefined;
  return {
    consecutive5xx: neither ? d.consecutive5xx : c.consecutive5xx,
    consecutiveGatewayErrors: c.consecutiveGatewayErrors,
    intervalMs: parseDuration(c.interval ?? d.interval),
    baseEjectionMs: parseDuration(c.baseEjectionTime ?? d.baseEjectionTime),
    maxEjectionMs: parseDuration(c.maxEjectionTime ?? d.maxEjectionTime),
    maxEjectionPercent: c.maxEjectionPercent ?? d.maxEjectionPercent,
    minHealthPercent: c.minHealthPercent ?? d.minHealthPercent,
  };
}

const rate = (percent: number | undefined): number => (percent ?? 100) / 100;

/**
 * `self`: the member applying a route's fault (its service name), matched against `from` here, once, since it never
 * changes; `instance` likewise against `instances` for a service's fault. Returns undefined when the fault can never
 * apply to this member, so it costs nothing.
 */
export function compileFault(f: FaultPolicyConfig, o: { trustDomain: string; namespace: string; self: string | undefined; instance: string | undefined; side: "caller" | "inbound" }): CompiledFault | undefined {
  const when = f.when;
  const ids = when?.from?.map((c) => (c.startsWith("spiffe://") ? c : formatSpiffeId({ trustDomain: o.trustDomain, namespace: o.namespace, service: c })));
  if (o.side === "caller" && ids !== undefined) {
    const me = o.self === undefined ? undefined : formatSpiffeId({ trustDomain: o.trustDomain, namespace: o.namespace, service: o.self });
    if (me === undefined || !ids.includes(me)) return undefined;
  }
  if (when?.instances !== undefined && (o.instance === undefined || !when.instances.includes(o.instance))) return undefined;
  const tests = (when?.headers ?? []).map(compileHeadersMatch);
  return {
    delayMs: f.delay === undefined ? 0 : parseDuration(f.delay.fixed),
    delayRate: f.delay === undefined ? 0 : rate(f.delay.percent),
    abort: f.abort === undefined ? undefined : f.abort.reset === true ? { reset: true } : { status: f.abort.status ?? 503 },
    abortRate: f.abort === undefined ? 0 : rate(f.abort.percent),
    // A loop over header-only tests: asked per request by the inbound relay, it makes no head object or closure.
    headers: tests.length === 0 ? undefined : (headers) => {
      for (let i = 0; i < tests.length; i++) if (!tests[i]!(headers)) return false;
      return true;
    },
    from: o.side === "inbound" && ids !== undefined ? new Set(ids) : undefined,
  };
}
