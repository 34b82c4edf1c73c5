// A cluster: one destination (a service, or one subset of it) with its subset-filtered endpoints and its balancer,
// and the state that must outlive reloads: circuit breaker, outlier ejections, retry budgets.
import type { Balancer, Cluster, Endpoint, LoadBalancerKind } from "../types.ts";
import { createLeastRequest } from "./least-request.ts";
import { createRoundRobin } from "./round-robin.ts";
import { createRingHash } from "./ring-hash.ts";
import { createMaglev } from "./maglev.ts";
import { selectSubset } from "./subset.ts";
import type { SubsetSelector } from "./subset.ts";
import { createCircuitBreaker, type BreakerLimits, type CircuitBreaker } from "./circuit-breaker.ts";
import { createOutlierDetector, type OutlierConfig, type OutlierDetector } from "./outlier-detection.ts";
import { createRetryBudget, type RetryBudget, type RetryBudgetConfig } from "./retry-budget.ts";

export type ClusterOptions = {
  readonly name: string;
  readonly service: string;
  readonly subset?: string;
  readonly selector?: SubsetSelector;
  readonly spiffeId: string;
  readonly loadBalancer: LoadBalancerKind;
};

/** The cluster-level policies of the destination's service; applied live, never part of the cluster's identity. */
export type ClusterResilience = { readonly breaker: BreakerLimits | undefined; readonly outlier: OutlierConfig | undefined };

export type ClusterStats = {
  readonly breaker: ReturnType<CircuitBreaker["stats"]> | undefined;
  readonly outlier: ReturnType<OutlierDetector["stats"]> | undefined;
  readonly retryBudgetExhausted: number;
  readonly mirrored: number;
  readonly mirrorSkipped: number;
};

export type ManagedCluster = Cluster & {
  setServiceEndpoints(all: readonly Endpoint[]): void;
  /** The whole service's endpoints as last set, before subset selection: what a rebuilt cluster starts from. */
  serviceEndpoints(): readonly Endpoint[];
  /** Attempts started on the balancer and not yet reported (the cluster handler pairs start/report). */
  inFlight(): number;
  /** Calls `fn` once no attempt is in flight: now if none is, else when the last one reports. */
  whenIdle(fn: () => void): void;
  /** Applies breaker and outlier settings, keeping counts in flight, ejections and their history. */
  configure(r: ClusterResilience): void;
  /** The breaker when one is configured: read per request, since a reload may add or remove it. */
  readonly breaker: CircuitBreaker | undefined;
  /** The retry budget for these settings: shared by every route to this cluster that asks for the same budget. */
  retryBudget(c: RetryBudgetConfig): RetryBudget;
  /** A request was picked for mirroring to this cluster: sent, or skipped (body over the bound). */
  countMirror(result: "sent" | "body-too-large"): void;
  /** Endpoints outlier detection currently keeps out of balancing. */
  ejected(): ReadonlySet<string>;
  /** The balancer has an endpoint to give (the subset isn't empty, not all ejected): a pick with nothing excluded succeeds. */
  pickable(): boolean;
  stats(): ClusterStats;
  /** Releases timers (a removed cluster whose attempts ended). */
  stop(): void;
};

function createBalancer(kind: LoadBalancerKind): Balancer {
  if (kind === "least_request") return createLeastRequest();
  if (kind === "ring_hash") return createRingHash();
  if (kind === "maglev") return createMaglev();
  return createRoundRobin();
}

const NONE: ReadonlySet<string> = new Set();

export function createCluster(opts: ClusterOptions, resilience?: ClusterResilience): ManagedCluster {
  const inner = createBalancer(opts.loadBalancer);
  let all: readonly Endpoint[] = [];
  let current: readonly Endpoint[] = [];
  let balanced = 0;
  let inFlight = 0;
  let idle: Array<() => void> = [];
  let breaker: CircuitBreaker | undefined;
  let outlier: OutlierDetector | undefined;
  const budgets = new Map<string, RetryBudget>();
  let mirrored = 0;
  let mirrorSkipped = 0;

  // The balancer sees only endpoints outlier detection has not ejected; recomputed when either set changes, so a
  // request pays nothing for ejections.
  const feed = (): void => {
    const out = outlier?.excluded() ?? NONE;
    const list = out.size === 0 ? current : current.filter((e) => !out.has(e.id));
    balanced = list.length;
    inner.update(list);
  };

  // Counting here rather than in the handler: the registry needs to know when a removed cluster has drained,
  // and start/report is the one pairing every attempt already goes through.
  const balancer: Balancer = {
    update(list) {
      balanced = list.length;
      inner.update(list);
    },
    pick: (exclude, hash) => inner.pick(exclude, hash),
    start(endpoint) {
      inFlight += 1;
      inner.start(endpoint);
    },
    report(endpoint, outcome, status) {
      inner.report(endpoint, outcome, status);
      outlier?.report(endpoint.id, outcome, status);
      if (inFlight === 0) return; // an unpaired report: never go negative
      inFlight -= 1;
      if (inFlight === 0 && idle.length > 0) {
        const waiting = idle;
        idle = [];
        for (const fn of waiting) fn();
      }
    },
  };

  const configure = (r: ClusterResilience): void => {
    if (r.breaker === undefined) breaker = undefined;
    else if (breaker === undefined) breaker = createCircuitBreaker(r.breaker);
    else breaker.configure(r.breaker);
    if (r.outlier === undefined) {
      if (outlier !== undefined) {
        outlier.stop();
        outlier = undefined;
        feed();
      }
    } else if (outlier === undefined) {
      outlier = createOutlierDetector(r.outlier);
      outlier.setEndpoints(current.map((e) => e.id));
      outlier.onChange(feed);
    } else outlier.configure(r.outlier);
  };
  if (resilience !== undefined) configure(resilience);

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
      outlier?.setEndpoints(current.map((e) => e.id));
      feed();
    },
    inFlight: () => inFlight,
    whenIdle(fn) {
      if (inFlight === 0) fn();
      else idle.push(fn);
    },
    configure,
    get breaker() {
      return breaker;
    },
    retryBudget(c) {
      const key = `${c.ratio}/${c.minPerSecond}/${c.ttlMs}`;
      let b = budgets.get(key);
      if (b === undefined) budgets.set(key, (b = createRetryBudget(c)));
      return b;
    },
    countMirror(result) {
      if (result === "sent") mirrored += 1;
      else mirrorSkipped += 1;
    },
    ejected: () => outlier?.excluded() ?? NONE,
    pickable: () => balanced > 0,
    stats() {
      let exhausted = 0;
      for (const b of budgets.values()) exhausted += b.stats().exhausted;
      return { breaker: breaker?.stats(), outlier: outlier?.stats(), retryBudgetExhausted: exhausted, mirrored, mirrorSkipped };
    },
    stop() {
      outlier?.stop();
    },
  };
}
