// The innermost handler of every destination chain: pick an endpoint of the cluster and forward one attempt.
// Each attempt is reported to the balancer; an empty cluster fails fast with 503 instead of waiting.
import type { CompiledPolicy, Handler, Outcome } from "../types.ts";
import { UpstreamError } from "../types.ts";
import type { Forwarder, MutableCluster } from "./snapshot.ts";

function outcomeOf(err: unknown): Outcome {
  if (err instanceof UpstreamError) {
    if (err.kind === "timeout") return "timeout";
    if (err.kind === "reset") return "reset";
  }
  return "connect-failure";
}

export function clusterHandler(cluster: MutableCluster, forward: Forwarder, policy: CompiledPolicy): Handler {
  return async (req, ctx) => {
    // Set before the empty check: a 503 for want of endpoints still names its destination (logs, metrics).
    ctx.lastCluster = cluster.name;
    const endpoint = cluster.balancer.pick(ctx.tried);
    if (endpoint === undefined) {
      throw new UpstreamError("no-healthy-endpoint", `no healthy endpoint in cluster ${cluster.name}`);
    }
    // Re-added at the end: balancers read the last id as the endpoint that failed most recently.
    ctx.tried.delete(endpoint.id);
    ctx.tried.add(endpoint.id);
    ctx.lastEndpoint = endpoint;
    cluster.balancer.start(endpoint);
    const observe = ctx.observe;
    const began = observe === undefined ? 0 : performance.now();
    try {
      const res = await forward(endpoint, cluster, req, { signal: ctx.signal, connectTimeoutMs: policy.connectTimeoutMs });
      const outcome = res.status >= 500 ? "http-5xx" : "success";
      cluster.balancer.report(endpoint, outcome);
      observe?.attempt({ requestId: ctx.requestId, cluster: cluster.name, endpoint, try: ctx.tried.size, status: res.status, outcome, durationMs: performance.now() - began, trace: ctx.trace });
      return res;
    } catch (err) {
      const outcome = outcomeOf(err);
      cluster.balancer.report(endpoint, outcome);
      const kind = err instanceof UpstreamError && err.kind === "identity-mismatch" ? "identity-mismatch" : outcome;
      observe?.attempt({ requestId: ctx.requestId, cluster: cluster.name, endpoint, try: ctx.tried.size, status: undefined, outcome: kind, durationMs: performance.now() - began, trace: ctx.trace });
      throw err;
    }
  };
}
