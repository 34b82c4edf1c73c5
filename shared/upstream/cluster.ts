// A cluster: one destination (a service, or one subset of it) with its subset-filtered endpoints and its balancer.
// Discovery pushes the whole service's endpoints; the cluster keeps only its subset and feeds the balancer.
import type { Balancer, Cluster, Endpoint } from "../types.ts";
import { createLeastRequest } from "./least-request.ts";
import { createRoundRobin } from "./round-robin.ts";
import { selectSubset } from "./subset.ts";
import type { SubsetSelector } from "./subset.ts";

export type ClusterOptions = {
  readonly name: string;
  readonly service: string;
  readonly subset?: string;
  readonly selector?: SubsetSelector;
  readonly spiffeId: string;
  readonly loadBalancer: "round_robin" | "least_request";
};

export type ManagedCluster = Cluster & { setServiceEndpoints(all: readonly Endpoint[]): void };

export function createCluster(opts: ClusterOptions): ManagedCluster {
  const balancer: Balancer = opts.loadBalancer === "least_request" ? createLeastRequest() : createRoundRobin();
  let current: readonly Endpoint[] = [];
  return {
    name: opts.name,
    service: opts.service,
    subset: opts.subset,
    spiffeId: opts.spiffeId,
    balancer,
    endpoints: () => current,
    setServiceEndpoints(all) {
      current = Object.freeze(selectSubset(all, opts.selector));
      balancer.update(current);
    },
  };
}
