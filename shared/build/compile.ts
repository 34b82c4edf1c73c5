// Compiles a validated MeshConfig into a Snapshot: route tables, clusters and the filter chain per destination.
// Everything that can fail does so here, at reload time, so the request path never meets a config error.
import type { MeshConfig, RouteConfig, ServiceConfig } from "../config/schema.ts";
import type { CompiledRoute, Forwarder, MutableCluster, ServiceInfo, Snapshot } from "../proxy/snapshot.ts";
import type { Endpoint } from "../types.ts";
import { buildRouteTable } from "../routing/route-table.ts";
import { compileAuthorizer, type Authorizer } from "../filters/authorization.ts";
import { formatSpiffeId } from "../pki/spiffe.ts";
import { createClusterRegistry, type ClusterRegistry } from "../upstream/registry.ts";
import { parseDuration } from "../config/duration.ts";
import { DEFAULTS } from "../config/defaults.ts";
import { routeHandler } from "./route-handler.ts";

export type CompileOptions = {
  version: number;
  source: string;
  /** The runtime's way to reach an endpoint of `service`. */
  forwarder: (service: ServiceInfo) => Forwarder;
  /** Clusters that outlive snapshots (the live holder's, one per process). Absent: every cluster is new. */
  clusters?: ClusterRegistry;
};

function staticEndpoints(svc: ServiceConfig): Endpoint[] {
  return (svc.instances ?? []).map((i) => ({ id: i.id, address: i.address, port: i.port, tags: i.tags ?? [], meta: i.meta ?? {} }));
}

export function compileSnapshot(config: MeshConfig, opts: CompileOptions): Snapshot {
  const trustDomain = config.trustDomain ?? DEFAULTS.trustDomain;
  const namespace = config.namespace ?? DEFAULTS.namespace;
  const serviceConfigs = config.services ?? {};
  const services = new Map<string, ServiceInfo>();
  for (const [name, svc] of Object.entries(serviceConfigs)) {
    services.set(name, { name, mtls: svc.mtls ?? "strict", spiffeId: formatSpiffeId({ trustDomain, namespace, service: name }) });
  }

  // Clusters are staged, not applied: a compile that throws below must leave the live clusters as they are.
  const plan = (opts.clusters ?? createClusterRegistry()).begin();
  const clusterFor = (service: string, subset: string | undefined, loadBalancer: "round_robin" | "least_request"): MutableCluster => {
    const svc = serviceConfigs[service];
    const info = services.get(service);
    if (svc === undefined || info === undefined) throw new Error(`unknown service ${service}`);
    const selector = subset === undefined ? undefined : svc.subsets?.[subset];
    if (subset !== undefined && selector === undefined) throw new Error(`unknown subset ${service}/${subset}`);
    const name = subset === undefined ? service : `${service}/${subset}`;
    return plan.cluster({ name, service, subset, selector, spiffeId: info.spiffeId, loadBalancer, staticEndpoints: staticEndpoints(svc) });
  };

  const compileRoutes = (routes: readonly RouteConfig[]) =>
    routes.map((route) => ({
      name: route.name,
      match: route.match,
      value: {
        name: route.name,
        handler: routeHandler(route, { serviceConfigs, services, clusterFor, forwarder: opts.forwarder }),
        traceSampling: route.tracing?.sampling === undefined ? undefined : route.tracing.sampling / 100,
      } as CompiledRoute,
    }));

  // A service with no explicit route is still reachable by its name, like a Kubernetes Service.
  const defaults: RouteConfig[] = [...services.keys()].map((name) => ({
    name: `default-${name}`,
    match: { host: [name] },
    action: { destinations: [{ service: name }] },
  }));
  const meshRoutes = buildRouteTable([...compileRoutes(config.routes ?? []), ...compileRoutes(defaults)]);
  const gatewayRoutes = buildRouteTable(compileRoutes(config.gateway?.routes ?? []));

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
  // Last, after everything that can throw: from here on the registry serves this config's clusters.
  const clusters = plan.commit();
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
    clusters,
  };
}
