// Round-robin balancer: endpoints take turns; no per-endpoint state, so start/report are no-ops.
// Honours `exclude` (ids a retry already tried) whenever another endpoint is available.
import type { Balancer, Endpoint } from "../types.ts";
import { lastTried } from "./last-tried.ts";

export function createRoundRobin(): Balancer {
  let endpoints: readonly Endpoint[] = [];
  let next = 0;
  return {
    update(list) {
      endpoints = [...list];
      if (next >= endpoints.length) next = 0;
    },
    pick(exclude) {
      const n = endpoints.length;
      if (n === 0) return undefined;
      const start = next % n;
      if (exclude && exclude.size > 0) {
        for (let k = 0; k < n; k++) {
          const at = (start + k) % n;
          const e = endpoints[at] as Endpoint;
          if (!exclude.has(e.id)) {
            next = (at + 1) % n;
            return e;
          }
        }
        // Everything was tried already: any endpoint beats failing the retry outright, except the one that just failed.
        const last = lastTried(exclude);
        if (n > 1 && endpoints[start]?.id === last) {
          const at = (start + 1) % n;
          next = (at + 1) % n;
          return endpoints[at];
        }
      }
      next = (start + 1) % n;
      return endpoints[start];
    },
    start() {},
    report() {},
  };
}
