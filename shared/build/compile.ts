// Compiles a validated MeshConfig into a Snapshot: route tables, clusters and the filter chain per destination.
// Everything that can fail does so here, at reload time, so the request path never meets a config error.
import type { MeshConfig, RouteConfig, ServiceConfig } from "../config/schema.ts";
import type { CompiledRoute, Forwarder, InboundPolicy, ServiceInfo, Snapshot } from "../proxy/snapshot.ts";
import type { Endpoint, LoadBalancerKind } from "../types.ts";
import type { ManagedCluster } from "../upstream/cluster.ts";
import { breakerLimits, outlierConfig } from "./resilience.ts";
import { compileInboundPolicy } from "./inbound-policy.ts";
import { buildRouteTable } from "../routing/route-table.ts";
import { compileAuthorizer, type Authorizer } from "../filters/authorization.ts";
import { formatSpiffeId } from "../pki/spiffe.ts";
import { createClusterRegistry, type ClusterRegistry } from "../upstream/registry.ts";
import { clusterKey } from "../upstream/definition.ts";
import { parseDuration } from "../config/duration.ts";
import { DEFAULTS } from "../config/defaults.ts";
import { fastRouteOf, routeHandler, type RouteDeps } from "./route-handler.ts";

export type CompileOptions = {
  version: number;
  source: string;
  /** The runtime's way to reach an endpoint of `service`. */
  forwarder: (service: ServiceInfo) => Forwarder;
  /** Clusters that outlive snapshots (the live holder's, one per member). Absent: every cluster is new. */
  clusters?: ClusterRegistry;
  /** The member compiling: its service (or the gateway's name) and instance id; faults with `from`/`instances` use them. */
  self?: { readonly service: string; readonly instance?: string | undefined };
};

/**
 * The key under which routes may share a compiled handler and fast route, or undefined when the route needs its own.
 * What routeHandler and fastRouteOf build depends on the route's action only, except a rate limit (its buckets are
 * the route's, by name) and a prefix rewrite (it reads the route's match). Equal JSON means equal actions; two equal
 * actions written with their keys in another order just don't share. Keep in step with route-handler.ts.
 */
export function shareKey(route: RouteConfig): string | undefined {
  const a = route.action;
  if (a.policy?.rateLimit !== undefined || a.rewrite !== undefined) return undefined;
  return JSON.stringify(a);
}

function staticEndpoints(svc: ServiceConfig): Endpoint[] {
  return (svc.instances ?? []).map((i) => ({ id: i.id, address: i.address, port: i.port, tags: i.tags ?? [], meta: i.meta ?? {} }));
}

export function compileSnapshot(config: MeshConfig, opts: CompileOptions): Snapshot {
  const trustDomain = config.trustDomain ?? DEFAULTS.trustDomain;
  const namespace = config.namespace ?? DEFAULTS.namespace;
  const serviceConfigs = config.services ?? {};
  const services = new Map<string, ServiceInfo>();
  for (const [name, svc] of Object.entries(serviceConfigs)) {
    services.set(name, { name, mtls: svc.mtls ?? "strict", protocol: svc.protocol ?? "http", spiffeId: formatSpiffeId({ trustDomain, namespace, service: name }) });
  }

  // Clusters are staged, not applied: a compile that throws below must leave the live clusters as they are.
  const plan = (opts.clusters ?? createClusterRegistry()).begin();
  // Every route to a service asks for its cluster (twice: handler and fast route), so each is built once per compile:
  // rebuilding the definition (static endpoints, resilience) and letting the registry serialize it per route made
  // compile time grow with routes x instances.
  const clusters = new Map<string, ManagedCluster>();
  const clusterFor = (service: string, subset: string | undefined, loadBalancer: LoadBalancerKind): ManagedCluster => {
    const name = subset === undefined ? service : `${service}/${subset}`;
    const key = clusterKey({ name, loadBalancer });
    const known = clusters.get(key);
    if (known !== undefined) return known;
    const svc = serviceConfigs[service];
    const info = services.get(service);
    if (svc === undefined || info === undefined) throw new Error(`unknown service ${service}`);
    const selector = subset === undefined ? undefined : svc.subsets?.[subset];
    if (subset !== undefined && selector === undefined) throw new Error(`unknown subset ${service}/${subset}`);
    const p = svc.policy;
    const resilience = { breaker: p?.circuitBreaker === undefined ? undefined : breakerLimits(p.circuitBreaker), outlier: p?.outlierDetection === undefined ? undefined : outlierConfig(p.outlierDetection) };
    const cluster = plan.cluster({ name, service, subset, selector, spiffeId: info.spiffeId, loadBalancer, staticEndpoints: staticEndpoints(svc), resilience });
    clusters.set(key, cluster);
    return cluster;
  };

  const depsOf = (table: "mesh" | "gateway"): RouteDeps => ({
    serviceConfigs, services, clusterFor, forwarder: opts.forwarder, trustDomain, namespace, self: opts.self?.service,
    buckets: (key, c) => plan.buckets(`${table}:${key}`, c),
  });
  // Routes of one table with equal actions and sampling share one compiled route (see shareKey): 10,000 routes to one
  // service then hold one filter chain and one value, not 10,000 identical ones (the route's name is on its hit).
  const built = new Map<string, Pick<CompiledRoute, "handler" | "fast">>();
  const values = new Map<string, CompiledRoute>();
  const compileRoutes = (routes: readonly RouteConfig[], table: "mesh" | "gateway") => {
    const deps = depsOf(table);
    return routes.map((route) => {
      const action = shareKey(route);
      const key = action === undefined ? undefined : `${table} ${action}`;
      const traceSampling = route.tracing?.sampling === undefined ? undefined : route.tracing.sampling / 100;
      const valueKey = key === undefined ? undefined : `${traceSampling} ${key}`;
      let value = valueKey === undefined ? undefined : values.get(valueKey);
      if (value === undefined) {
        let chain = key === undefined ? undefined : built.get(key);
        if (chain === undefined) {
          chain = { handler: routeHandler(route, deps), fast: fastRouteOf(route, deps) };
          if (key !== undefined) built.set(key, chain);
        }
        value = { handler: chain.handler, fast: chain.fast, traceSampling };
        if (valueKey !== undefined) values.set(valueKey, value);
      }
      return { name: route.name, match: route.match, value };
    });
  };

  // A service with no explicit route is still reachable by its name, like a Kubernetes Service.
  const defaults: RouteConfig[] = [...services.keys()].map((name) => ({
    name: `default-${name}`,
    match: { host: [name] },
    action: { destinations: [{ service: name }] },
  }));
  const meshRoutes = buildRouteTable([...compileRoutes(config.routes ?? [], "mesh"), ...compileRoutes(defaults, "mesh")]);
  const gatewayRoutes = buildRouteTable(compileRoutes(config.gateway?.routes ?? [], "gateway"));

  const l = config.limits ?? {};
  const d = DEFAULTS.limits;
  const limits = {
    maxHeaderBytes: l.maxHeaderBytes ?? d.maxHeaderBytes,
    maxUriLength: l.maxUriLength ?? d.maxUriLength,
    maxBodyBytes: l.maxBodyBytes ?? d.maxBodyBytes,
    headerTimeoutMs: parseDuration(l.headerTimeout ?? d.headerTimeout),
    idleTimeoutMs: parseDuration(l.idleTimeout ?? d.idleTimeout),
    bodyIdleTimeoutMs: parseDuration(l.bodyIdleTimeout ?? d.bodyIdleTimeout),
    bodyTimeoutMs: parseDuration(l.bodyTimeout ?? d.bodyTimeout),
    drainTimeoutMs: parseDuration(l.drainTimeout ?? d.drainTimeout),
  };
  const meshDefault = config.defaultAuthorization ?? "allow";
  const authorization = new Map<string, Authorizer>();
  for (const name of services.keys()) authorization.set(name, compileAuthorizer(name, config.authorization?.[name], meshDefault, trustDomain));
  // Only this member's own service has an inbound here; other members compile theirs from the same config.
  const inbound = new Map<string, InboundPolicy>();
  const own = opts.self === undefined ? undefined : serviceConfigs[opts.self.service]?.policy;
  if (own !== undefined && opts.self !== undefined) {
    const p = compileInboundPolicy(own, { trustDomain, namespace, service: opts.self.service, instance: opts.self.instance, buckets: (key, c) => plan.buckets(`inbound:${key}`, c) });
    if (p !== undefined) inbound.set(opts.self.service, p);
  }
  // Last, after everything that can throw: from here on the registry serves this config's clusters.
  const committed = plan.commit();
  return {
    version: opts.version,
    source: opts.source,
    trustDomain,
    limits,
    traceSampling: (config.tracing?.sampling ?? DEFAULTS.traceSampling) / 100,
    meshRoutes,
    gatewayRoutes,
    gatewayListeners: config.gateway?.listeners ?? [],
    services,
    authorization,
    inbound,
    clusters: committed,
  };
}
