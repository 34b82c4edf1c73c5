// Resilience state per destination cluster, read at scrape from the live clusters: circuit breaker load and overflows,
// outlier ejections, retry budget refusals, mirrored requests. Nothing here runs per request.
import type { LiveSnapshot } from "../../shared/build/live.ts";
import type { ManagedCluster } from "../../shared/upstream/cluster.ts";
import { splitCluster } from "../../shared/telemetry/metric-labels.ts";
import { ScrapeGauge, SeriesCounter } from "./series.ts";
import type { MetricsRegistry } from "./registry.ts";

const DEST = ["destination_service", "destination_subset"] as const;

type Tally = (c: ManagedCluster) => ReadonlyArray<readonly [extra: readonly string[], value: number]>;

/**
 * A counter fed from tallies the clusters keep: each scrape adds what grew since the last one, per cluster object, so
 * a cluster a reload replaced (its tally starting again at 0) never makes the exported counter go down.
 */
function clusterCounter(registry: MetricsRegistry, live: LiveSnapshot, name: string, help: string, extraLabels: readonly string[], tally: Tally): void {
  const counter = registry.register(new SeriesCounter(name, help, [...DEST, ...extraLabels]));
  const seen = new WeakMap<ManagedCluster, Map<string, number>>();
  counter.collect = () => {
    for (const c of live.current().clusters.values()) {
      let last = seen.get(c);
      if (last === undefined) seen.set(c, (last = new Map()));
      for (const [extra, value] of tally(c)) {
        const key = extra.join("\u0000");
        const grown = value - (last.get(key) ?? 0);
        last.set(key, value);
        if (grown > 0) counter.child([...splitCluster(c.name), ...extra]).inc(grown);
        else counter.child([...splitCluster(c.name), ...extra]); // present from the first scrape, at 0
      }
    }
  };
}

/** Clusters of the same destination (one per balancer a route picked) are summed into one series. */
function clusterGauge(registry: MetricsRegistry, live: LiveSnapshot, name: string, help: string, read: (c: ManagedCluster) => number | undefined): void {
  registry.register(new ScrapeGauge(name, help, () => {
    const sums = new Map<string, number>();
    for (const c of live.current().clusters.values()) {
      const v = read(c);
      if (v !== undefined) sums.set(c.name, (sums.get(c.name) ?? 0) + v);
    }
    return [...sums].map(([cluster, v]) => {
      const [service, subset] = splitCluster(cluster);
      return [{ destination_service: service, destination_subset: subset }, v] as const;
    });
  }));
}

export function resilienceMetrics(registry: MetricsRegistry, live: LiveSnapshot): void {
  clusterGauge(registry, live, "mesh_circuit_breaker_active_requests", "Upstream attempts in flight counted by a destination's circuit breaker.", (c) => c.stats().breaker?.active);
  clusterGauge(registry, live, "mesh_circuit_breaker_pending_requests", "Attempts waiting in a circuit breaker's pending queue.", (c) => c.stats().breaker?.pending);
  clusterCounter(registry, live, "mesh_circuit_breaker_overflows_total", "Attempts a circuit breaker refused (503 overflow) or queued, by the threshold reached.", ["threshold"], (c) => {
    const o = c.stats().breaker?.overflows;
    return o === undefined ? [] : Object.entries(o).map(([kind, n]) => [[kind], n] as const);
  });
  clusterGauge(registry, live, "mesh_outlier_ejected_endpoints", "Endpoints outlier detection keeps out of balancing right now.", (c) => c.stats().outlier?.ejected);
  clusterGauge(registry, live, "mesh_outlier_panic", "1 while too few endpoints are healthy and ejections are ignored (panic threshold).", (c) => {
    const o = c.stats().outlier;
    return o === undefined ? undefined : o.panic ? 1 : 0;
  });
  clusterCounter(registry, live, "mesh_outlier_ejections_total", "Endpoints ejected by outlier detection.", [], (c) => {
    const o = c.stats().outlier;
    return o === undefined ? [] : [[[], o.ejectionsTotal]];
  });
  clusterCounter(registry, live, "mesh_retry_budget_exhausted_total", "Retries not made because the destination's retry budget was spent.", [], (c) => {
    const n = c.stats().retryBudgetExhausted;
    return n === 0 ? [] : [[[], n]]; // only destinations whose budget ever ran out: most have none
  });
  clusterCounter(registry, live, "mesh_mirror_requests_total", "Requests picked for mirroring to a destination: sent, or not mirrored (body over the bound).", ["result"], (c) => {
    const s = c.stats();
    return s.mirrored + s.mirrorSkipped === 0 ? [] : [[["sent"], s.mirrored], [["body-too-large"], s.mirrorSkipped]];
  });
}
