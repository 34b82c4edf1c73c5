// Resolves the effective per-destination policy: route policy over service policy over defaults.
// Durations are parsed here, once per snapshot, so the request path only sees numbers.
import type { HashOnConfig, PolicyConfig, RetryPolicyConfig } from "../config/schema.ts";
import type { CompiledPolicy, CompiledRetry, HashOnKind, RetryOn } from "../types.ts";
import { parseDuration } from "../config/duration.ts";
import { DEFAULTS } from "../config/defaults.ts";

const DEFAULT_RETRY_ON: readonly RetryOn[] = ["connect-failure", "reset"];

function compileRetry(r: RetryPolicyConfig): CompiledRetry {
  return {
    // Config counts retries like Istio (`attempts: 2` = up to 3 tries); the filter counts tries.
    attempts: r.attempts + 1,
    on: new Set<RetryOn>(r.on ?? DEFAULT_RETRY_ON),
    perTryTimeoutMs: r.perTryTimeout === undefined ? undefined : parseDuration(r.perTryTimeout),
    backoffMs: parseDuration(r.backoff ?? DEFAULTS.retryBackoff),
    allowNonIdempotent: r.allowNonIdempotent ?? false,
    maxReplayBytes: r.maxReplayBytes ?? DEFAULTS.maxReplayBytes,
    budget: r.budget === undefined ? undefined : {
      ratio: (r.budget.percent ?? DEFAULTS.retryBudget.percent) / 100,
      minPerSecond: r.budget.minRetriesPerSecond ?? DEFAULTS.retryBudget.minRetriesPerSecond,
      ttlMs: parseDuration(r.budget.ttl ?? DEFAULTS.retryBudget.ttl),
    },
  };
}

function hashOnOf(h: HashOnConfig | undefined): HashOnKind | undefined {
  if (h === undefined) return undefined;
  if (h.header !== undefined) return { header: h.header };
  if (h.cookie !== undefined) return { cookie: h.cookie };
  return { caller: true };
}

/**
 * `route` fields win over `service` fields one by one (a route may set only a timeout, keeping service retries). The
 * service-only kinds (fault and rateLimit, applied by the service's own inbound; circuitBreaker and outlierDetection,
 * per cluster) are not merged here: a route's fault and rate limit are built by route-handler.ts.
 */
export function resolvePolicy(service: PolicyConfig | undefined, route: PolicyConfig | undefined): CompiledPolicy {
  const pick = <K extends keyof PolicyConfig>(k: K): PolicyConfig[K] => route?.[k] ?? service?.[k];
  const retries = pick("retries");
  return {
    loadBalancer: pick("loadBalancer") ?? "round_robin",
    hashOn: hashOnOf(pick("hashOn")),
    timeoutMs: parseDuration(pick("timeout") ?? DEFAULTS.timeout),
    connectTimeoutMs: parseDuration(pick("connectTimeout") ?? DEFAULTS.connectTimeout),
    retries: retries === undefined ? undefined : compileRetry(retries),
  };
}
