// The outbound listener's fast path, decided per request head: the same route table and path policy as
// handleDownstream; when the winning route is a FastRoute, the runtime relays the request itself (no Request, no fetch).
import type { HopTrace } from "../types.ts";
import type { Observation } from "../telemetry/observe.ts";
import type { CompiledRoute, FastDestination, Snapshot } from "./snapshot.ts";
import type { RouteTable } from "../routing/route-table.ts";
import { forwardableFields, type RelayHead } from "./inbound-relay-plan.ts";
import { requestIdOf, setForwardedHeaders } from "./hygiene.ts";
import { routeByPath } from "../routing/route-path.ts";
import { routingHost, targetPath, targetSearch } from "../http/url.ts";
import { FieldList } from "../http/field-list.ts";
import { propagateTrace } from "../telemetry/trace-hop.ts";
import { ABSENT_HEADER } from "../filters/identity.ts";
import type { HeaderEdit } from "../filters/header-ops.ts";
import { mayInject } from "../filters/fault.ts";
import { rateLimitKeyOf } from "../filters/rate-limit.ts";
import { affinityHash } from "../filters/hash-key.ts";

/** `framing.kind` "none": the request has no body (a route with retries relays only those). */
export type OutboundHead = RelayHead & { readonly host: string; readonly framing: { readonly kind: string } };

export type OutboundPlan = {
  /** Path (canonical, as routed) and query as received. */
  readonly target: string;
  readonly fields: Array<readonly [string, string]>;
  readonly requestId: string;
  readonly trace: HopTrace | undefined;
  readonly route: string;
  /** The destination drawn for this request (a split's draw happens once, here). */
  readonly fast: FastDestination;
  /** Its affinity hash, for a consistent-hash balancer (undefined: no key, spread as round robin would). */
  readonly hash: number | undefined;
  /** The route's response header ops, applied to the upstream's response head before it is relayed. */
  readonly responseEdit: HeaderEdit | undefined;
  readonly startedAt: number;
};

export type OutboundPlannerOptions = {
  readonly snapshot: () => Snapshot;
  readonly table: (snap: Snapshot) => RouteTable<CompiledRoute>;
  readonly proto: "http" | "https";
  readonly trustForwarded: boolean;
};

/** `clientIp`: the downstream's address, for X-Forwarded-For (the listener knows it per connection). */
export type OutboundPlanner = (head: OutboundHead, clientIp: string | undefined) => OutboundPlan | undefined;

/**
 * Undefined = the full path (handleDownstream) answers: refusals, no route, routes that need filters, and requests a
 * route's policy acts on (a breaker without room, a fault that targets them, a rate limit without a token). Those
 * checks come last and in that order, so a request handed over has taken nothing the full path would take again.
 */
export function createOutboundPlanner(o: OutboundPlannerOptions): OutboundPlanner {
  return (head, clientIp) => {
    const startedAt = performance.now();
    const snap = o.snapshot();
    const limits = snap.limits;
    if (head.target.length > limits.maxUriLength || head.host === "") return undefined;
    const fields = forwardableFields(head, limits);
    if (fields === undefined) return undefined;
    const list = new FieldList(fields);
    const search = targetSearch(head.target);
    const routed = routeByPath(o.table(snap), head.method, routingHost(head.host), list, targetPath(head.target), search);
    if (!routed.ok || routed.hit === undefined) return undefined;
    const route = routed.hit.value.fast;
    if (route === undefined || (route.retries && head.framing.kind !== "none")) return undefined;
    // A breaker's queue lives in the full path's cluster handler: a request that would wait (or be refused) goes there,
    // as does one that may draw a destination with no endpoint (the full path answers 503 for that draw alone).
    // Checked on every destination the route can draw before drawing or taking a token: falling back after the draw
    // would draw again there and skew a split's shares, and after the take would take the route's token twice.
    const ds = route.destinations;
    for (let i = 0; i < ds.length; i++) {
      const cluster = ds[i]!.cluster;
      if (!cluster.pickable()) return undefined;
      const breaker = cluster.breaker;
      if (breaker !== undefined && !breaker.hasRoom()) return undefined;
    }

    const requestId = requestIdOf(list);
    list.set("x-request-id", requestId);
    // Only a member's own client may say what it did not send (identity.ts); the relay invents nothing, so a value
    // from downstream would let a caller have the next sidecar strip the caller's own User-Agent or Accept.
    list.delete(ABSENT_HEADER);
    setForwardedHeaders(list, clientIp, o.proto, o.trustForwarded);
    const rate = routed.hit.value.traceSampling ?? snap.traceSampling;
    const trace = propagateTrace(list, rate, rate > 0 || snap.traceSampling > 0);
    // The full path's order: the rate limit sees the request before the route's header edits, the fault and the
    // affinity hash after them.
    const limit = route.rateLimit;
    const limitKey = limit === undefined ? undefined : rateLimitKeyOf(limit.key, list, undefined, clientIp);
    route.requestEdit?.(list);
    if (route.fault !== undefined && mayInject(route.fault, list, undefined)) return undefined;
    if (limit !== undefined && limit.buckets.take(limitKey!, performance.now()) !== 0) return undefined;
    const fast = ds.length === 1 ? ds[0]! : route.pick();
    const hash = fast.hashOn === undefined ? undefined : affinityHash(fast.hashOn, list, undefined, clientIp);
    return { target: routed.head.path + search, fields, requestId, trace, route: routed.hit.name, fast, hash, responseEdit: route.responseEdit, startedAt };
  };
}

export type OutboundResult = {
  readonly method: string;
  readonly target: string;
  readonly status: number;
  readonly cause: string | undefined;
  readonly endpoint: string | undefined;
  readonly headAt: number;
  readonly bytesIn: number | undefined;
  readonly bytesOut: number | undefined;
  /** Tries made (more than 1 on a route with retries). */
  readonly attempts: number;
};

/** The request event of a relayed request (the full path's shape: route, cluster, endpoint, one try). */
export function emitOutbound(observe: Observation, listener: string, plan: OutboundPlan, r: OutboundResult): void {
  observe.request({
    listener,
    method: r.method,
    path: r.target,
    status: r.status,
    cause: r.cause,
    requestId: plan.requestId,
    startedAt: plan.startedAt,
    durationMs: r.headAt - plan.startedAt,
    route: plan.route,
    cluster: plan.fast.cluster.name,
    endpoint: r.endpoint,
    attempts: r.attempts,
    peer: undefined,
    authz: undefined,
    bytesIn: r.bytesIn,
    bytesOut: r.bytesOut,
    trace: plan.trace,
  });
}
