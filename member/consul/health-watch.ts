// Health-based endpoint discovery from Consul: a paced blocking watch on health/service/<name> that reports the
// passing instances as Endpoints, sorted by id, and how many are registered at all, only when either really changed.
import type { Endpoint } from "../../shared/types.ts";
import { watchBlocking } from "../../shared/discovery/blocking.ts";
import { parseHealthServiceView, type ConsulServiceView } from "../../shared/discovery/consul-health.ts";
import { blockingRead } from "./blocking-read.ts";
import { consulClient } from "./client.ts";

export type ConsulServiceWatchOptions = {
  /** Agent HTTP address, e.g. http://127.0.0.1:8500 */
  consul: string;
  service: string;
  signal: AbortSignal;
  /** `registered` counts every instance, passing or not: 0 means Consul does not know the service (mixed mode keeps the file's). */
  onEndpoints: (eps: Endpoint[], index: number, registered: number) => void;
  /** Errors keep the last endpoints in place: an unreachable agent is not an empty service. */
  onError: (err: unknown, consecutiveFailures: number) => void;
  token?: string | undefined;
  waitSeconds?: number;
  minIntervalMs?: number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  random?: () => number;
};

/** Runs until `signal` aborts; the promise then resolves. */
export function watchConsulService(opts: ConsulServiceWatchOptions): Promise<void> {
  const client = consulClient(opts.consul, opts.token);
  let last: string | undefined;
  return watchBlocking<ConsulServiceView>({
    // Unfiltered (no ?passing): the same passing set is computed from the checks, and failing instances still say
    // that Consul knows the service.
    fetchOnce: blockingRead((o) => client.health.service({ service: opts.service, ...o })),
    parse: parseHealthServiceView,
    onChange: (view, index) => {
      // The index also moves for changes that do not touch this service's passing set (e.g. a check's output).
      const key = JSON.stringify(view);
      if (key === last) return;
      opts.onEndpoints(view.passing, index, view.registered);
      last = key;
    },
    onError: opts.onError,
    signal: opts.signal,
    waitSeconds: opts.waitSeconds,
    minIntervalMs: opts.minIntervalMs,
    backoffBaseMs: opts.backoffBaseMs,
    backoffCapMs: opts.backoffCapMs,
    random: opts.random,
  });
}
