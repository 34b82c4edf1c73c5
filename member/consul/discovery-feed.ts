// Feeds Consul's passing instances into the clusters of the live snapshot: one health watch per declared service,
// re-applied to every new snapshot. On Consul errors the last known endpoints stay (traffic keeps flowing); a
// service Consul has no instance of keeps the instances its config lists (shared/discovery/endpoint-source.ts).
import type { Endpoint } from "../../shared/types.ts";
import type { LiveSnapshot } from "../../shared/build/live.ts";
import type { Snapshot } from "../../shared/proxy/snapshot.ts";
import { watchConsulService } from "./health-watch.ts";
import { chooseEndpoints } from "../../shared/discovery/endpoint-source.ts";
import type { ConsulServiceView } from "../../shared/discovery/consul-health.ts";

export type ServiceDiscoveryStatus = {
  endpoints: number;
  /** Instances Consul has registered, passing or not; 0 = it does not know the service (the config's instances serve). */
  registered?: number;
  index: number | undefined;
  updatedAt: string | undefined;
  consecutiveFailures: number;
  lastError: string | undefined;
};

export type ConsulFeed = { status(): Record<string, ServiceDiscoveryStatus>; stop(): void };

type Log = { info(o: object, msg: string): void; warn(o: object, msg: string): void };

export function startConsulFeed(opts: { consul: string; live: LiveSnapshot; log: Log; token?: string }): ConsulFeed {
  const known = new Map<string, ConsulServiceView>();
  // The config's instances per service, read back from a cluster whenever it holds something other than what we
  // last set (a fresh compile or a changed instance list): the compiled snapshot does not carry them otherwise.
  const configured = new Map<string, readonly Endpoint[]>();
  const lastSet = new Map<string, string>();
  const watches = new Map<string, AbortController>();
  const states = new Map<string, ServiceDiscoveryStatus>();

  const apply = (snap: Snapshot, service: string): void => {
    const view = known.get(service);
    const set = lastSet.get(service);
    let applied: string | undefined;
    for (const cluster of snap.clusters.values()) {
      if (cluster.service !== service) continue;
      const held = cluster.serviceEndpoints();
      if (set === undefined || JSON.stringify(held) !== set) configured.set(service, held);
      const eps = chooseEndpoints(view, configured.get(service) ?? []);
      cluster.setServiceEndpoints(eps);
      // Only Consul's lists are remembered: a cluster holding the config's instances is read again next time.
      applied = view !== undefined && view.registered > 0 ? JSON.stringify(eps) : undefined;
    }
    if (applied === undefined) lastSet.delete(service);
    else lastSet.set(service, applied);
  };

  const watch = (service: string): void => {
    const ac = new AbortController();
    watches.set(service, ac);
    const state: ServiceDiscoveryStatus = { endpoints: 0, registered: 0, index: undefined, updatedAt: undefined, consecutiveFailures: 0, lastError: undefined };
    states.set(service, state);
    void watchConsulService({
      consul: opts.consul,
      service,
      signal: ac.signal,
      token: opts.token,
      onEndpoints: (eps, index, registered) => {
        if (state.consecutiveFailures > 0) opts.log.info({ service }, "consul reachable again; discovery resumed");
        Object.assign(state, { endpoints: eps.length, registered, index, updatedAt: new Date().toISOString(), consecutiveFailures: 0, lastError: undefined });
        known.set(service, { passing: eps, registered });
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
        configured.delete(service);
        lastSet.delete(service);
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
