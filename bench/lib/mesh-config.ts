// Builds the per-scenario mesh configs (shared/config/schema.ts shape) that the runner writes as YAML.
// Pure, so the tests can check them against the real schema.
import type { MeshConfig } from "../../shared/config/schema.ts";

export const TRUST_DOMAIN = "mesh.local";
/** The Host header the load generator sends: the destination service's name. */
export const UPSTREAM_SERVICE = "upstream";

/** sidecar-hop: the upstream is outside the mesh, reached in plaintext. */
export function hopConfig(upstreamPort: number): MeshConfig {
  return {
    trustDomain: TRUST_DOMAIN,
    services: {
      [UPSTREAM_SERVICE]: {
        mtls: "disable",
        instances: [{ id: "upstream-1", address: "127.0.0.1", port: upstreamPort }],
      },
    },
  };
}

/**
 * sidecar-hop-policies: the hop through an explicit route that configures every resilience kind without triggering
 * any: a fault only for a header wrk never sends, a rate limit far above the load, retries with a budget on an
 * upstream that never fails, a 0 % mirror, ring-hash affinity on a header wrk never sends, and a breaker and outlier
 * detection on the cluster with limits the load stays under. Against sidecar-hop: what idle policies cost per request.
 */
export function policiesHopConfig(upstreamPort: number): MeshConfig {
  const cfg = hopConfig(upstreamPort);
  cfg.services![UPSTREAM_SERVICE]!.policy = {
    circuitBreaker: { maxConnections: 4096, maxPendingRequests: 4096, maxRequests: 4096, maxRetries: 64 },
    outlierDetection: { consecutive5xx: 5, interval: "10s", baseEjectionTime: "30s" },
  };
  cfg.routes = [{
    name: "all-policies",
    match: { host: [UPSTREAM_SERVICE] },
    action: {
      destinations: [{ service: UPSTREAM_SERVICE }],
      policy: {
        loadBalancer: "ring_hash",
        hashOn: { header: "x-session" },
        retries: { attempts: 2, on: ["5xx", "connect-failure", "reset"], budget: { percent: 20 } },
        fault: { abort: { status: 503 }, when: { headers: [{ name: "x-mesh-fault", exact: "on" }] } },
        rateLimit: { requestsPerSecond: 1_000_000, burst: 1_000_000 },
      },
      mirror: { service: UPSTREAM_SERVICE, percent: 0 },
    },
  }];
  return cfg;
}

/**
 * sidecar-hop-canary: the hop through a 90/10 weighted split over two subsets of the upstream (two instances at the
 * same address, tagged stable and canary) with a timeout, retries on connect failures, resets and 503, and outlier
 * detection on the service: a canary rollout with the policies a mesh user sets. None of them triggers under load.
 */
export function canaryHopConfig(upstreamPort: number): MeshConfig {
  const cfg = hopConfig(upstreamPort);
  cfg.services![UPSTREAM_SERVICE] = {
    mtls: "disable",
    instances: [
      { id: "upstream-stable", address: "127.0.0.1", port: upstreamPort, tags: ["stable"] },
      { id: "upstream-canary", address: "127.0.0.1", port: upstreamPort, tags: ["canary"] },
    ],
    subsets: { stable: { tags: ["stable"] }, canary: { tags: ["canary"] } },
    policy: { outlierDetection: { consecutive5xx: 5, interval: "10s", baseEjectionTime: "30s" } },
  };
  cfg.routes = [{
    name: "canary",
    match: { host: [UPSTREAM_SERVICE] },
    action: {
      destinations: [{ service: UPSTREAM_SERVICE, subset: "stable", weight: 90 }, { service: UPSTREAM_SERVICE, subset: "canary", weight: 10 }],
      policy: { timeout: "5s", retries: { attempts: 2, on: ["connect-failure", "reset", 503] } },
    },
  }];
  return cfg;
}

/** The name and path prefix of many-routes route i: "svc-00042" and "/svc-00042/" (5 digits keep them one length). */
export const manyRouteName = (i: number): string => `svc-${String(i).padStart(5, "0")}`;

/** The path wrk requests in a many-routes scenario: inside the middle route, so a linear scan walks half the list. */
export const manyRoutesPath = (count: number): string => `/${manyRouteName(Math.floor(count / 2))}/x`;

/**
 * sidecar-hop-10-routes / sidecar-hop-10k-routes: the hop with `count` routes on host `upstream`, each a distinct
 * path prefix to the same service, then a catch-all for the host. Against each other: what the route count costs
 * per request and in memory, with everything else equal.
 */
export function manyRoutesHopConfig(upstreamPort: number, count: number): MeshConfig {
  const cfg = hopConfig(upstreamPort);
  // A fresh object per route: a shared one would come out of yaml's stringify as 10,000 aliases, which parsers refuse.
  const to = () => ({ destinations: [{ service: UPSTREAM_SERVICE }] });
  cfg.routes = [
    ...Array.from({ length: count }, (_, i) => ({
      name: manyRouteName(i),
      match: { host: [UPSTREAM_SERVICE], path: { prefix: `/${manyRouteName(i)}/` } },
      action: to(),
    })),
    { name: "catch-all", match: { host: [UPSTREAM_SERVICE] }, action: to() },
  ];
  return cfg;
}

/** sidecar-pair and gateway: `upstream` is a mesh service (mTLS strict) whose one instance is sidecar B's inbound listener. */
export function meshConfig(inboundPort: number, gatewayPort?: number): MeshConfig {
  const cfg: MeshConfig = {
    trustDomain: TRUST_DOMAIN,
    services: {
      [UPSTREAM_SERVICE]: {
        instances: [{ id: "upstream-1", address: "127.0.0.1", port: inboundPort }],
      },
    },
  };
  if (gatewayPort !== undefined) {
    cfg.gateway = {
      name: "gateway",
      listeners: [{ name: "http", address: "127.0.0.1", port: gatewayPort }],
      routes: [{ name: "all", match: { path: { prefix: "/" } }, action: { destinations: [{ service: UPSTREAM_SERVICE }] } }],
    };
  }
  return cfg;
}

/**
 * sidecar-pair-policies: the pair with the upstream service's own inbound policy configured and idle: a rate limit
 * far above the load and a fault only for a header wrk never sends. B's relay decides both per head.
 */
export function inboundPoliciesPairConfig(inboundPort: number): MeshConfig {
  const cfg = meshConfig(inboundPort);
  cfg.services![UPSTREAM_SERVICE]!.policy = {
    rateLimit: { requestsPerSecond: 1_000_000, burst: 1_000_000 },
    fault: { abort: { status: 503 }, when: { headers: [{ name: "x-mesh-fault", exact: "on" }] } },
  };
  return cfg;
}

/**
 * sidecar-pair-authz: the pair with a ten-rule policy on the upstream's inbound. Nine rules never match (other
 * callers, paths, methods, headers) and the last allows the client, so every request walks the whole list.
 */
export function authzPairConfig(inboundPort: number): MeshConfig {
  const cfg = meshConfig(inboundPort);
  const deny = (i: number) => ({ name: `deny-${i}`, action: "deny" as const, from: [`spiffe://${TRUST_DOMAIN}/ns/default/svc/other-${i}`] });
  cfg.defaultAuthorization = "deny";
  cfg.authorization = {
    [UPSTREAM_SERVICE]: {
      rules: [
        ...Array.from({ length: 6 }, (_, i) => deny(i)),
        { name: "admin-only", action: "deny", from: ["*"], paths: [{ prefix: "/admin" }] },
        { name: "writes", action: "allow", from: ["*"], methods: ["POST", "PUT"], paths: [{ prefix: "/api" }] },
        { name: "tenant", action: "allow", from: ["*"], headers: [{ name: "x-tenant", exact: "acme" }] },
        { name: "client-reads", action: "allow", from: [`spiffe://${TRUST_DOMAIN}/ns/default/svc/client`], methods: ["GET"] },
      ],
    },
  };
  return cfg;
}
