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
    const endpoint = cluster.balancer.pick(ctx.tried);
    if (endpoint === undefined) {
      throw new UpstreamError("no-healthy-endpoint", `no healthy endpoint in cluster ${cluster.name}`);
    }
    ctx.tried.add(endpoint.id);
    ctx.lastEndpoint = endpoint;
    cluster.balancer.start(endpoint);
    try {
      const res = await forward(endpoint, cluster, req, { signal: ctx.signal, connectTimeoutMs: policy.connectTimeoutMs });
      cluster.balancer.report(endpoint, res.status >= 500 ? "http-5xx" : "success");
      return res;
    } catch (err) {
      cluster.balancer.report(endpoint, outcomeOf(err));
      throw err;
    }
  };
}
