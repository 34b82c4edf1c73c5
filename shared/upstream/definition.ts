// What a cluster is built from, and the canonical identity the registry compares across reloads.
// Equal identities build interchangeable clusters, so the registry keeps the live one (and its balancer state).
import type { Endpoint } from "../types.ts";
import type { ClusterOptions, ClusterResilience } from "./cluster.ts";

export type ClusterDefinition = ClusterOptions & {
  /**
   * The service's static instances from config. Endpoints, not identity: a change is applied to the live cluster in
   * place, like a discovery update, so balancer state of the instances that stay survives it.
   */
  readonly staticEndpoints: readonly Endpoint[];
  /** Breaker and outlier settings: applied to the live cluster in place, so an open breaker or an ejection survives a reload. */
  readonly resilience?: ClusterResilience;
};

/**
 * The registry key, also the key of `Snapshot.clusters`. The load balancer is part of it because a route policy may
 * pick another balancer for the same service or subset, and both clusters then live side by side.
 */
export function clusterKey(d: Pick<ClusterOptions, "name" | "loadBalancer">): string {
  return `${d.name}#${d.loadBalancer}`;
}

/** JSON with object keys sorted and undefined members dropped, so equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : canonicalJson(v))).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const members = Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${members.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** Everything the cluster object is built from; any difference means a new cluster (fresh balancer state). */
export function definitionIdentity(d: ClusterDefinition): string {
  const { staticEndpoints: _endpoints, resilience: _resilience, ...built } = d;
  return canonicalJson(built);
}
