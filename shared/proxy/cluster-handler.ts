// The innermost handler of every destination chain: pass the cluster's circuit breaker, pick an endpoint and forward
// one attempt. Each attempt is reported to the balancer (and outlier detection); an empty cluster fails fast with 503.
import type { CompiledPolicy, Handler, Outcome, RequestContext } from "../types.ts";
import { UpstreamError } from "../types.ts";
import type { Forwarder } from "./snapshot.ts";
import type { ManagedCluster } from "../upstream/cluster.ts";
import type { CircuitBreaker } from "../upstream/circuit-breaker.ts";

function outcomeOf(err: unknown): Outcome {
  if (err instanceof UpstreamError) {
    if (err.kind === "timeout") return "timeout";
    if (err.kind === "reset") return "reset";
  }
  return "connect-failure";
}

function overflowError(cluster: ManagedCluster, kind: string, ctx: RequestContext): UpstreamError {
  ctx.observe?.attempt({ requestId: ctx.requestId, cluster: cluster.name, endpoint: { id: "", address: "", port: 0, tags: [], meta: {} }, try: ctx.tried.size + 1, status: undefined, outcome: "overflow", durationMs: 0, trace: ctx.trace });
  return new UpstreamError("overflow", `circuit breaker of cluster ${cluster.name}: max ${kind} reached`);
}

export function clusterHandler(cluster: ManagedCluster, forward: Forwarder, policy: CompiledPolicy): Handler {
  const attempt: Handler = async (req, ctx) => {
    const endpoint = cluster.balancer.pick(ctx.tried, ctx.hash);
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
      cluster.balancer.report(endpoint, outcome, res.status);
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

  const queued = async (admitted: Promise<undefined>, breaker: CircuitBreaker, req: Request, ctx: RequestContext): Promise<Response> => {
    await admitted; // waited in the bounded pending queue; rejects if the request gave up (no slot taken then)
    try {
      return await attempt(req, ctx);
    } finally {
      breaker.release();
    }
  };

  // Not async: the usual admitted-at-once attempt gets no promise layer of its own (this runs per try).
  return (req, ctx) => {
    // Set before any refusal: a 503 for want of endpoints or capacity still names its destination (logs, metrics).
    ctx.lastCluster = cluster.name;
    const breaker = cluster.breaker;
    if (breaker === undefined) return attempt(req, ctx);
    const admitted = breaker.admit(ctx.signal);
    if (typeof admitted === "string") return Promise.reject(overflowError(cluster, admitted, ctx));
    if (admitted !== undefined) return queued(admitted, breaker, req, ctx);
    const p = attempt(req, ctx);
    const release = () => breaker.release();
    p.then(release, release);
    return p;
  };
}
