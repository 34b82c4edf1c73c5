// The outbound fast path's runtime part: a request head the core's planner accepts goes to an endpoint the cluster's
// balancer picks, over a pooled connection, with the outcome reported as the full path's cluster handler would.
import type { Observation } from "../../shared/telemetry/observe.ts";
import type { Outcome, UpstreamErrorKind } from "../../shared/types.ts";
import { emitOutbound, type OutboundPlanner } from "../../shared/proxy/outbound-relay-plan.ts";
import { RelayExchange } from "./relay-exchange.ts";
import type { RelayStarter } from "./inbound-relay.ts";
import type { UpstreamPool } from "./upstream-pool.ts";

export type OutboundRelay = {
  readonly planner: OutboundPlanner;
  readonly pool: UpstreamPool;
  readonly observe: Observation;
  /** Names the listener in request events ("outbound", "gateway/<name>"). */
  readonly listener: string;
};

const NONE: ReadonlySet<string> = new Set();
// Route timeouts this short get a timer of their own; longer ones are checked by the listener's sweep (≤ 1 s late).
const TIMER_BELOW_MS = 2000;

const outcomeOf = (k: UpstreamErrorKind): Outcome => (k === "timeout" ? "timeout" : k === "reset" ? "reset" : "connect-failure");

/** One per downstream connection (`clientIp` is its address), or one shared where every caller is local. */
export function outboundRelayStarter(r: OutboundRelay, clientIp: string | undefined): RelayStarter {
  const observe = r.observe;
  return {
    start(head, io) {
      const plan = r.planner(head, clientIp);
      if (plan === undefined) return undefined;
      const { cluster, service, timeoutMs, connectTimeoutMs } = plan.fast;
      const endpoint = cluster.balancer.pick(NONE, undefined);
      if (endpoint === undefined) return undefined; // the full path answers 503 no-healthy-endpoint
      cluster.balancer.start(endpoint);
      const link = r.pool.take(endpoint, service.mtls === "disable" ? undefined : service.spiffeId, connectTimeoutMs);
      const x = new RelayExchange({
        link, plan, req: head, io,
        deadline: plan.startedAt + timeoutMs,
        release: (l) => r.pool.release(l),
        emit(status, cause, bytesOut, failure) {
          // Status 0: the caller gave up first, which usually means the upstream was slow.
          const outcome: Outcome = status === 0 ? "timeout" : failure !== undefined ? outcomeOf(failure) : status >= 500 ? "http-5xx" : "success";
          cluster.balancer.report(endpoint, outcome, failure === undefined && status > 0 ? status : undefined);
          const now = performance.now();
          if (observe.wantsAttempts) {
            observe.attempt({ requestId: plan.requestId, cluster: cluster.name, endpoint, try: 1, status: failure === undefined && status > 0 ? status : undefined, outcome: failure === "identity-mismatch" ? "identity-mismatch" : outcome, durationMs: now - plan.startedAt, trace: plan.trace });
          }
          if (status === 0 || !observe.wantsRequests) return;
          const f = head.framing;
          emitOutbound(observe, r.listener, plan, { method: head.method, target: head.target, status, cause, endpoint: endpoint.id, headAt: now, bytesIn: f.kind === "length" ? f.length : undefined, bytesOut });
        },
      });
      if (timeoutMs < TIMER_BELOW_MS) {
        const t = setTimeout(() => x.checkDeadline(Number.POSITIVE_INFINITY), timeoutMs);
        x.whenSettled(() => clearTimeout(t));
      }
      return x;
    },
    idle() {},
    close() {},
  };
}
