// Builds one route's handler from config: direct response, redirect, or a weighted split over destinations. Route
// filters (rate limit, rewrite, headers) run once; each destination has its own chain (fault, mirror, affinity hash,
// timeout, retry) ending at the cluster. A kind a route doesn't configure adds no filter and costs nothing.
import type { HeaderOpsConfig, RouteConfig, ServiceConfig } from "../config/schema.ts";
import type { FastDestination, FastRoute, Forwarder, MutableCluster, ServiceInfo } from "../proxy/snapshot.ts";
import type { Filter, Handler, LoadBalancerKind } from "../types.ts";
import type { KeyedBuckets, TokenBucketConfig } from "../upstream/token-bucket.ts";
import type { ManagedCluster } from "../upstream/cluster.ts";
import { createWeightedPicker } from "../routing/split.ts";
import { timeoutFilter } from "../filters/timeout.ts";
import { retryFilter } from "../filters/retry.ts";
import { compileHeaderEdit, headerOpsFilter } from "../filters/header-ops.ts";
import { isHopByHop } from "../http/hop-by-hop.ts";
import { prefixRewriteFilter } from "../filters/rewrite.ts";
import { faultFilter, type CompiledFault } from "../filters/fault.ts";
import { compileRateLimit, rateLimitFilter, type RateLimitKey } from "../filters/rate-limit.ts";
import { hashFilter, lowerHashOn } from "../filters/hash-key.ts";
import { mirrorFilter } from "../filters/mirror.ts";
import { clusterHandler } from "../proxy/cluster-handler.ts";
import { resolvePolicy } from "./policy.ts";
import { compileFault } from "./resilience.ts";
import { DEFAULTS } from "../config/defaults.ts";

export type RouteDeps = {
  serviceConfigs: Readonly<Record<string, ServiceConfig>>;
  services: ReadonlyMap<string, ServiceInfo>;
  clusterFor(service: string, subset: string | undefined, lb: LoadBalancerKind): ManagedCluster;
  forwarder(service: ServiceInfo): Forwarder;
  /** Rate limiter state that outlives snapshots (the cluster registry's). */
  buckets(key: string, c: TokenBucketConfig): KeyedBuckets;
  trustDomain: string;
  namespace: string;
  /** The member building this route (its service, or the gateway's name): a fault's `from` is matched against it. */
  self: string | undefined;
};

/** The route's token buckets (one set per route name, shared by the full path and the relay) and what keys them. */
function rateLimitOf(route: RouteConfig, deps: RouteDeps): { buckets: KeyedBuckets; key: RateLimitKey } | undefined {
  const limit = route.action.policy?.rateLimit;
  return limit === undefined ? undefined : compileRateLimit(limit, (c) => deps.buckets(`route:${route.name}`, c));
}

/** The route's caller-side fault as this member applies it, or undefined when it never applies here. */
function routeFault(route: RouteConfig, deps: RouteDeps): CompiledFault | undefined {
  const fault = route.action.policy?.fault;
  return fault === undefined ? undefined : compileFault(fault, { trustDomain: deps.trustDomain, namespace: deps.namespace, self: deps.self, instance: undefined, side: "caller" });
}

/** Filters listed outermost first. */
function chain(filters: readonly Filter[], terminal: Handler): Handler {
  return filters.reduceRight<Handler>((next, f) => f(next), terminal);
}

function directResponse(status: number, body: string | undefined): Handler {
  return async () => new Response(body ?? null, { status, headers: body === undefined ? {} : { "content-type": "text/plain" } });
}

function redirect(r: NonNullable<RouteConfig["action"]["redirect"]>): Handler {
  return async (req) => {
    const url = new URL(req.url);
    if (r.scheme !== undefined) url.protocol = `${r.scheme}:`;
    if (r.host !== undefined) url.host = r.host;
    if (r.path !== undefined) url.pathname = r.path;
    return new Response(null, { status: r.status ?? 301, headers: { location: url.toString() } });
  };
}

const HASHED = new Set<LoadBalancerKind>(["ring_hash", "maglev"]);

function destinationChain(route: RouteConfig, service: string, subset: string | undefined, mirror: Filter | undefined, deps: RouteDeps): Handler {
  const info = deps.services.get(service);
  if (info === undefined) throw new Error(`route ${route.name}: unknown service ${service}`);
  const policy = resolvePolicy(deps.serviceConfigs[service]?.policy, route.action.policy);
  const cluster = deps.clusterFor(service, subset, policy.loadBalancer);
  const filters: Filter[] = [];
  const compiled = routeFault(route, deps);
  if (compiled !== undefined) filters.push(faultFilter(compiled, { cluster: cluster.name }));
  // After the fault (as in Envoy, where an aborted request never reaches the router that mirrors).
  if (mirror !== undefined) filters.push(mirror);
  if (policy.hashOn !== undefined && HASHED.has(policy.loadBalancer)) filters.push(hashFilter(policy.hashOn));
  filters.push(timeoutFilter(policy.timeoutMs));
  if (policy.retries !== undefined) {
    const budget = policy.retries.budget === undefined ? undefined : cluster.retryBudget(policy.retries.budget);
    filters.push(retryFilter(policy.retries, { budget, breaker: () => cluster.breaker }));
  }
  return chain(filters, clusterHandler(cluster, deps.forwarder(info), policy));
}

function mirrorOf(route: RouteConfig, deps: RouteDeps): Filter | undefined {
  const m = route.action.mirror;
  if (m === undefined) return undefined;
  const info = deps.services.get(m.service);
  if (info === undefined) throw new Error(`route ${route.name}: unknown mirror service ${m.service}`);
  const policy = resolvePolicy(deps.serviceConfigs[m.service]?.policy, undefined);
  const cluster = deps.clusterFor(m.service, m.subset, policy.loadBalancer);
  return mirrorFilter({
    rate: (m.percent ?? DEFAULTS.mirror.percent) / 100,
    maxBodyBytes: m.maxBodyBytes ?? DEFAULTS.mirror.maxBodyBytes,
    send: clusterHandler(cluster, deps.forwarder(info), policy),
    timeoutMs: policy.timeoutMs,
    count: (result) => cluster.countMirror(result),
  });
}

export function routeHandler(route: RouteConfig, deps: RouteDeps): Handler {
  const action = route.action;
  if (action.directResponse !== undefined) return directResponse(action.directResponse.status, action.directResponse.body);
  if (action.redirect !== undefined) return redirect(action.redirect);
  const destinations = action.destinations;
  if (destinations === undefined) throw new Error(`route ${route.name} has no action`);

  const prefix = route.match?.path !== undefined && "prefix" in route.match.path ? route.match.path.prefix : undefined;
  const shared: Filter[] = [];
  const limit = rateLimitOf(route, deps);
  if (limit !== undefined) shared.push(rateLimitFilter(limit.buckets, limit.key));
  if (action.rewrite !== undefined && prefix !== undefined) shared.push(prefixRewriteFilter(prefix, action.rewrite.prefix));
  if (action.requestHeaders !== undefined || action.responseHeaders !== undefined) {
    shared.push(headerOpsFilter({ request: action.requestHeaders, response: action.responseHeaders }));
  }
  // One mirror for the route, run in each destination's chain after the header edits: it gets the request as the
  // destination would.
  const mirror = mirrorOf(route, deps);
  const handlers = destinations.map((d) => ({ value: destinationChain(route, d.service, d.subset, mirror, deps), weight: d.weight ?? 1 }));
  const pick = handlers.length === 1 ? undefined : createWeightedPicker(handlers);
  const only = handlers[0]!.value;
  const split: Handler = pick === undefined ? only : (req, ctx) => pick()(req, ctx);
  return chain(shared, split);
}

/** A destination as the relay takes it: its cluster (breaker included), timeout, retries and affinity hash. */
function fastDestinationOf(route: RouteConfig, service: string, subset: string | undefined, deps: RouteDeps): FastDestination | undefined {
  const info = deps.services.get(service);
  if (info === undefined) return undefined;
  const policy = resolvePolicy(deps.serviceConfigs[service]?.policy, route.action.policy);
  const cluster = deps.clusterFor(service, subset, policy.loadBalancer);
  const r = policy.retries;
  const retry = r === undefined ? undefined : { policy: r, budget: r.budget === undefined ? undefined : cluster.retryBudget(r.budget) };
  const hashOn = policy.hashOn !== undefined && HASHED.has(policy.loadBalancer) ? lowerHashOn(policy.hashOn) : undefined;
  return { cluster, service: info, timeoutMs: policy.timeoutMs, connectTimeoutMs: policy.connectTimeoutMs, ...(retry === undefined ? {} : { retry }), ...(hashOn === undefined ? {} : { hashOn }) };
}

/**
 * Header names whose edits the relay leaves to the full path: where the full path's own machinery (fetch's Host and
 * framing, the request id, hop-by-hop removal) has the last word, copying its exact outcome isn't worth it.
 */
const FRAMED = new Set(["host", "content-length", "x-request-id"]);

/** True when the ops touch only ordinary end-to-end fields (see FRAMED). */
export function relayableHeaderOps(ops: HeaderOpsConfig | undefined): boolean {
  if (ops === undefined) return true;
  const names = [...(ops.remove ?? []), ...Object.keys(ops.set ?? {}), ...Object.keys(ops.add ?? {})].map((n) => n.toLowerCase());
  return names.every((n) => !FRAMED.has(n) && !isHopByHop(n, undefined));
}

/**
 * The route as the relay can take it, or undefined: one destination or a weighted split, header edits on ordinary
 * fields, and per destination a timeout, retries, a breaker and an affinity hash; a rate limit and a fault the relay
 * decides per head (a request the fault targets, or without a token, takes the full path). A rewrite or a mirror that
 * may copy requests needs a Request. The split draws with the full path's picker and weights, so a canary's share is
 * the same on both.
 */
export function fastRouteOf(route: RouteConfig, deps: RouteDeps): FastRoute | undefined {
  const a = route.action;
  if (a.directResponse !== undefined || a.redirect !== undefined || a.destinations === undefined || a.destinations.length === 0) return undefined;
  // A 0 % mirror never copies a request (its filter rolls and sends nothing): no reason to leave the relay for it.
  if (a.rewrite !== undefined || (a.mirror !== undefined && (a.mirror.percent ?? DEFAULTS.mirror.percent) > 0)) return undefined;
  if (!relayableHeaderOps(a.requestHeaders) || !relayableHeaderOps(a.responseHeaders)) return undefined;
  const weighted: { value: FastDestination; weight: number }[] = [];
  for (const d of a.destinations) {
    const fast = fastDestinationOf(route, d.service, d.subset, deps);
    if (fast === undefined) return undefined;
    weighted.push({ value: fast, weight: d.weight ?? 1 });
  }
  // A lone destination gets every request whatever its weight (as in routeHandler). Zero-weight destinations of a
  // split are never drawn (the picker skips them), so they need not be checked per request.
  const rateLimit = rateLimitOf(route, deps);
  const fault = routeFault(route, deps);
  const edits = {
    requestEdit: compileHeaderEdit(a.requestHeaders),
    responseEdit: compileHeaderEdit(a.responseHeaders),
    retries: weighted.some((w) => w.value.retry !== undefined),
    ...(rateLimit === undefined ? {} : { rateLimit }),
    ...(fault === undefined ? {} : { fault }),
  };
  if (weighted.length === 1) {
    const only = weighted[0]!.value;
    return { destinations: [only], pick: () => only, ...edits };
  }
  return { destinations: weighted.filter((w) => w.weight > 0).map((w) => w.value), pick: createWeightedPicker(weighted), ...edits };
}
