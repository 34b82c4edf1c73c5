// Feeds Consul's passing instances into the clusters of the live snapshot: one health watch per declared service,
// re-applied to every new snapshot. On Consul errors the last known endpoints stay (traffic keeps flowing).
import type { Endpoint } from "../../shared/types.ts";
import type { LiveSnapshot } from "../../shared/build/live.ts";
import type { Snapshot } from "../../shared/proxy/snapshot.ts";
import { watchConsulService } from "./health-watch.ts";

export type ServiceDiscoveryStatus = {
  endpoints: number;
  index: number | undefined;
  updatedAt: string | undefined;
  consecutiveFailures: number;
  lastError: string | undefined;
};

export type ConsulFeed = { status(): Record<string, ServiceDiscoveryStatus>; stop(): void };

type Log = { info(o: object, msg: string): void; warn(o: object, msg: string): void };

export function startConsulFeed(opts: { consul: string; live: LiveSnapshot; log: Log; token?: string }): ConsulFeed {
  const known = new Map<string, Endpoint[]>();
  const watches = new Map<string, AbortController>();
  const states = new Map<string, ServiceDiscoveryStatus>();

  const apply = (snap: Snapshot, service: string): void => {
    const eps = known.get(service);
    if (eps === undefined) return; // nothing from Consul yet: the file's static instances (if any) stay
    for (const cluster of snap.clusters.values()) if (cluster.service === service) cluster.setServiceEndpoints(eps);
  };

  const watch = (service: string): void => {
    const ac = new AbortController();
    watches.set(service, ac);
    const state: ServiceDiscoveryStatus = { endpoints: 0, index: undefined, updatedAt: undefined, consecutiveFailures: 0, lastError: undefined };
    states.set(service, state);
    void watchConsulService({
      consul: opts.consul,
      service,
      signal: ac.signal,
      token: opts.token,
      onEndpoints: (eps, index) => {
        if (state.consecutiveFailures > 0) opts.log.info({ service }, "consul reachable again; discovery resumed");
        Object.assign(state, { endpoints: eps.length, index, updatedAt: new Date().toISOString(), consecutiveFailures: 0, lastError: undefined });
        known.set(service, eps);
        apply(opts.live.current(), service);
      },
      onError: (err, failures) => {
        Object.assign(state, { consecutiveFailures: failures, lastError: err instanceof Error ? err.message : String(err) });
        if (failures === 1) opts.log.warn({ service, err: state.lastError }, "consul unreachable; serving the last known endpoints");
      },
    });
  };

  const sync = (snap: Snapshot): void => {
    for (const service of snap.services.keys()) {
      if (!watches.has(service)) watch(service);
      apply(snap, service);
    }
    for (const [service, ac] of watches) {
      if (!snap.services.has(service)) {
        ac.abort();
        watches.delete(service);
        states.delete(service);
        known.delete(service);
      }
    }
  };

  opts.live.onApply(sync);
  sync(opts.live.current());

  return {
    status: () => Object.fromEntries(states),
    stop: () => {
      for (const ac of watches.values()) ac.abort();
      watches.clear();
    },
  };
}
