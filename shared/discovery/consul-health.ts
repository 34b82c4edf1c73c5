// Health-based endpoint discovery from Consul: a blocking watch on /v1/health/service/<name>?passing
// that reports the passing instances as Endpoints, sorted by id, only when the set really changed.
import type { Endpoint } from "../types.ts";
import { watchBlocking } from "./blocking.ts";

export type ConsulServiceWatchOptions = {
  /** Agent HTTP address, e.g. http://127.0.0.1:8500 */
  consul: string;
  service: string;
  signal: AbortSignal;
  onEndpoints: (eps: Endpoint[], index: number) => void;
  /** Errors keep the last endpoints in place: an unreachable agent is not an empty service. */
  onError: (err: unknown, consecutiveFailures: number) => void;
  token?: string;
  waitSeconds?: number;
  minIntervalMs?: number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  fetch?: typeof fetch;
  random?: () => number;
};

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObj(v)) return out;
  // Sorted keys so two equal maps serialize the same when sets are compared.
  for (const k of Object.keys(v).sort()) {
    const val = v[k];
    if (typeof val === "string") out[k] = val;
  }
  return out;
}

/** Maps a /v1/health/service response to endpoints sorted by id; throws on a malformed body. */
export function parseHealthService(body: unknown): Endpoint[] {
  if (!Array.isArray(body)) throw new Error("health/service: expected a JSON array");
  const eps = body.map((entry: unknown, i): Endpoint => {
    const svc = isObj(entry) ? entry.Service : undefined;
    const node = isObj(entry) ? entry.Node : undefined;
    if (!isObj(svc) || typeof svc.ID !== "string" || typeof svc.Port !== "number") {
      throw new Error(`health/service: entry ${i} has no Service.ID/Port`);
    }
    const svcAddr = typeof svc.Address === "string" ? svc.Address : "";
    const nodeAddr = isObj(node) && typeof node.Address === "string" ? node.Address : "";
    const address = svcAddr || nodeAddr;
    if (address === "") throw new Error(`health/service: entry ${i} (${svc.ID}) has no address`);
    const tags = Array.isArray(svc.Tags) ? svc.Tags.filter((t): t is string => typeof t === "string") : [];
    return { id: svc.ID, address, port: svc.Port, tags, meta: stringMap(svc.Meta) };
  });
  return eps.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export function healthServiceUrl(consul: string, service: string, index: number, waitSeconds: number): string {
  const base = `${consul.replace(/\/+$/, "")}/v1/health/service/${encodeURIComponent(service)}?passing=1`;
  return index > 0 ? `${base}&index=${index}&wait=${waitSeconds}s` : base;
}

/** Runs until `signal` aborts; the promise then resolves. */
export function watchConsulService(opts: ConsulServiceWatchOptions): Promise<void> {
  let last: string | undefined;
  return watchBlocking<Endpoint[]>({
    url: (index, wait) => healthServiceUrl(opts.consul, opts.service, index, wait),
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
    headers: opts.token !== undefined ? { "X-Consul-Token": opts.token } : undefined,
    waitSeconds: opts.waitSeconds,
    minIntervalMs: opts.minIntervalMs,
    backoffBaseMs: opts.backoffBaseMs,
    backoffCapMs: opts.backoffCapMs,
    fetch: opts.fetch,
    random: opts.random,
  });
}
