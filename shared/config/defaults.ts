// Defaults the runtime applies where the config is silent; docs/config.md lists the same values.
// One place so the docs, the compiler and the listeners can't disagree.
export const DEFAULTS = {
  trustDomain: "mesh.local",
  namespace: "default",
  timeout: "15s",
  connectTimeout: "2s",
  maxReplayBytes: 64 * 1024,
  retryBackoff: "25ms",
  /** Envoy's circuit breaker defaults, used for the fields a circuitBreaker block leaves out. */
  circuitBreaker: { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 },
  /** Envoy's outlier detection defaults (consecutive5xx applies when neither error count is set). */
  outlierDetection: { consecutive5xx: 5, interval: "10s", baseEjectionTime: "30s", maxEjectionTime: "300s", maxEjectionPercent: 10, minHealthPercent: 50 },
  /** Linkerd's retry budget defaults. */
  retryBudget: { percent: 20, minRetriesPerSecond: 10, ttl: "10s" },
  mirror: { percent: 100, maxBodyBytes: 64 * 1024 },
  /** Percent of the traces a member starts that are sampled (tracing.sampling); a caller's decision always wins. */
  traceSampling: 1,
  limits: {
    maxHeaderBytes: 16384,
    maxUriLength: 8192,
    maxBodyBytes: 10 * 1024 * 1024,
    headerTimeout: "10s",
    idleTimeout: "60s",
    // A request body that stalls this long between bytes, or takes longer than bodyTimeout in all, gets 408.
    bodyIdleTimeout: "10s",
    bodyTimeout: "60s",
    drainTimeout: "10s",
  },
} as const;
