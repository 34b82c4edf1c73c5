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

export type ManagedCluster = Cluster & {
  setServiceEndpoints(all: readonly Endpoint[]): void;
  /** The whole service's endpoints as last set, before subset selection: what a rebuilt cluster starts from. */
  serviceEndpoints(): readonly Endpoint[];
  /** Attempts started on the balancer and not yet reported (the cluster handler pairs start/report). */
  inFlight(): number;
  /** Calls `fn` once no attempt is in flight: now if none is, else when the last one reports. */
  whenIdle(fn: () => void): void;
};

export function createCluster(opts: ClusterOptions): ManagedCluster {
  const inner: Balancer = opts.loadBalancer === "least_request" ? createLeastRequest() : createRoundRobin();
  let all: readonly Endpoint[] = [];
  let current: readonly Endpoint[] = [];
  let inFlight = 0;
  let idle: Array<() => void> = [];
  // Counting here rather than in the handler: the registry needs to know when a removed cluster has drained,
  // and start/report is the one pairing every attempt already goes through.
  const balancer: Balancer = {
    update: (list) => inner.update(list),
    pick: (exclude) => inner.pick(exclude),
    start(endpoint) {
      inFlight += 1;
      inner.start(endpoint);
    },
    report(endpoint, outcome) {
      inner.report(endpoint, outcome);
      if (inFlight === 0) return; // an unpaired report: never go negative
      inFlight -= 1;
      if (inFlight === 0 && idle.length > 0) {
        const waiting = idle;
        idle = [];
        for (const fn of waiting) fn();
      }
    },
  };
  return {
    name: opts.name,
    service: opts.service,
    subset: opts.subset,
    spiffeId: opts.spiffeId,
    balancer,
    endpoints: () => current,
    serviceEndpoints: () => all,
    setServiceEndpoints(list) {
      all = Object.freeze([...list]);
      current = Object.freeze(selectSubset(list, opts.selector));
      inner.update(current);
    },
    inFlight: () => inFlight,
    whenIdle(fn) {
      if (inFlight === 0) fn();
      else idle.push(fn);
    },
  };
}
