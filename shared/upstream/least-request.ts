// Least-request balancer: power of two random choices on in-flight attempt counts (start/report pairs).
// P2C avoids the herd that "always the global minimum" causes when many pickers see the same counts.
import { lastTried } from "./last-tried.ts";
import type { Balancer, Endpoint } from "../types.ts";

export type LeastRequestBalancer = Balancer & {
  /** In-flight attempts currently counted for an endpoint id (admin view and tests); undefined if unknown. */
  inFlight(id: string): number | undefined;
};

export function createLeastRequest(random: () => number = Math.random): LeastRequestBalancer {
  let endpoints: readonly Endpoint[] = [];
  let inFlight = new Map<string, number>();
  const load = (e: Endpoint) => inFlight.get(e.id) ?? 0;
  return {
    update(list) {
      endpoints = [...list];
      const kept = new Map<string, number>();
      for (const e of endpoints) kept.set(e.id, inFlight.get(e.id) ?? 0);
      inFlight = kept;
    },
    pick(exclude) {
      let pool = endpoints;
      if (exclude && exclude.size > 0) {
        const fresh = endpoints.filter((e) => !exclude.has(e.id));
        // Everything tried: fall back to any endpoint but the one that just failed.
        const last = lastTried(exclude);
        pool = fresh.length > 0 ? fresh : endpoints.length > 1 ? endpoints.filter((e) => e.id !== last) : endpoints;
      }
      const n = pool.length;
      if (n === 0) return undefined;
      if (n === 1) return pool[0];
      const i = Math.floor(random() * n);
      let j = Math.floor(random() * (n - 1));
      if (j >= i) j++; // two distinct choices
      const a = pool[i] as Endpoint;
      const b = pool[j] as Endpoint;
      return load(b) < load(a) ? b : a;
    },
    start(endpoint) {
      const count = inFlight.get(endpoint.id);
      // Unknown ids were removed by update(); counting them would only leak entries.
      if (count !== undefined) inFlight.set(endpoint.id, count + 1);
    },
    report(endpoint) {
      const count = inFlight.get(endpoint.id);
      if (count !== undefined) inFlight.set(endpoint.id, Math.max(0, count - 1));
    },
    inFlight(id) {
      return inFlight.get(id);
    },
  };
}

