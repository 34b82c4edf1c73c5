// Health-based endpoint discovery from Consul: a paced blocking watch on health/service/<name>?passing that
// reports the passing instances as Endpoints, sorted by id, only when the set really changed.
import type { Endpoint } from "../../shared/types.ts";
import { watchBlocking } from "../../shared/discovery/blocking.ts";
import { parseHealthService } from "../../shared/discovery/consul-health.ts";
import { blockingRead } from "./blocking-read.ts";
import { consulClient } from "./client.ts";

export type ConsulServiceWatchOptions = {
  /** Agent HTTP address, e.g. http://127.0.0.1:8500 */
  consul: string;
  service: string;
  signal: AbortSignal;
  onEndpoints: (eps: Endpoint[], index: number) => void;
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
  return watchBlocking<Endpoint[]>({
    fetchOnce: blockingRead((o) => client.health.service({ service: opts.service, passing: true, ...o })),
    parse: parseHealthService,
    onChange: (eps, index) => {
      // The index also moves for changes that do not touch this service's passing set (e.g. a check's output).
      const key = JSON.stringify(eps);
      if (key === last) return;
      opts.onEndpoints(eps, index);
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
