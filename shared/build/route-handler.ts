// Builds one route's handler from config: direct response, redirect, or a weighted split over destinations,
// each destination with its own filter chain (rewrite, headers, timeout, retry) ending at the cluster.
import type { RouteConfig, ServiceConfig } from "../config/schema.ts";
import type { Forwarder, MutableCluster, ServiceInfo } from "../proxy/snapshot.ts";
import type { Filter, Handler } from "../types.ts";
import { createWeightedPicker } from "../routing/split.ts";
import { timeoutFilter } from "../filters/timeout.ts";
import { retryFilter } from "../filters/retry.ts";
import { headerOpsFilter } from "../filters/header-ops.ts";
import { prefixRewriteFilter } from "../filters/rewrite.ts";
import { clusterHandler } from "../proxy/cluster-handler.ts";
import { resolvePolicy } from "./policy.ts";

export type RouteDeps = {
  serviceConfigs: Readonly<Record<string, ServiceConfig>>;
  services: ReadonlyMap<string, ServiceInfo>;
  clusterFor(service: string, subset: string | undefined, lb: "round_robin" | "least_request"): MutableCluster;
  forwarder(service: ServiceInfo): Forwarder;
};

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

export function routeHandler(route: RouteConfig, deps: RouteDeps): Handler {
  const action = route.action;
  if (action.directResponse !== undefined) return directResponse(action.directResponse.status, action.directResponse.body);
  if (action.redirect !== undefined) return redirect(action.redirect);
  const destinations = action.destinations;
  if (destinations === undefined) throw new Error(`route ${route.name} has no action`);

  const prefix = route.match?.path !== undefined && "prefix" in route.match.path ? route.match.path.prefix : undefined;
  const shared: Filter[] = [];
  if (action.rewrite !== undefined && prefix !== undefined) shared.push(prefixRewriteFilter(prefix, action.rewrite.prefix));
  if (action.requestHeaders !== undefined || action.responseHeaders !== undefined) {
    shared.push(headerOpsFilter({ request: action.requestHeaders, response: action.responseHeaders }));
  }

  const handlers = destinations.map((d) => {
    const info = deps.services.get(d.service);
    if (info === undefined) throw new Error(`route ${route.name}: unknown service ${d.service}`);
    const policy = resolvePolicy(deps.serviceConfigs[d.service]?.policy, action.policy);
    const cluster = deps.clusterFor(d.service, d.subset, policy.loadBalancer);
    const filters: Filter[] = [timeoutFilter(policy.timeoutMs)];
    if (policy.retries !== undefined) filters.push(retryFilter(policy.retries));
    return { value: chain(filters, clusterHandler(cluster, deps.forwarder(info), policy)), weight: d.weight ?? 1 };
  });

  const pick = handlers.length === 1 ? undefined : createWeightedPicker(handlers);
  const only = handlers[0]!.value;
  const split: Handler = pick === undefined ? only : (req, ctx) => pick()(req, ctx);
  return chain(shared, split);
}
