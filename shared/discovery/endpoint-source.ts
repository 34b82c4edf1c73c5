// Which endpoints a cluster serves when discovery runs beside config that may list instances (mixed mode:
// --config FILE --consul ADDR). Pure, so the rule is tested on its own; member/consul/discovery-feed.ts applies it.
import type { Endpoint } from "../types.ts";
import type { ConsulServiceView } from "./consul-health.ts";

/**
 * Consul wins once it knows the service (at least one registered instance, passing or not): then its passing set
 * is the truth, even when empty (all failing = 503, not a fallback to stale file entries). A service Consul has
 * never heard of keeps the instances the config lists, so a file-listed service does not answer 503 just because
 * discovery is on. Before Consul's first answer, also the config's instances.
 */
export function chooseEndpoints(consul: ConsulServiceView | undefined, configured: readonly Endpoint[]): readonly Endpoint[] {
  if (consul === undefined || consul.registered === 0) return configured;
  return consul.passing;
}
