// A generic Consul blocking-query loop (fetch only, runtime-neutral): follows Consul's index rules,
// rate-limits with a token bucket, backs off with jitter on errors, and stops promptly on abort.
import { backoffDelay, sleep, TokenBucket } from "./pacing.ts";

export type BlockingOptions<T> = {
  /** Builds the request URL. `index` 0 means a plain read: leave out `index=` and `wait=`. */
  url: (index: number, waitSeconds: number) => string;
  /** Turns the JSON body into a value; throwing counts as a failed request (the index is not advanced). */
  parse: (body: unknown) => T;
  /** Called on the first successful response and whenever X-Consul-Index changes; throwing counts as a failure. */
  onChange: (value: T, index: number) => void;
  onError: (err: unknown, consecutiveFailures: number) => void;
  signal: AbortSignal;
  /** Consul's `wait` (default 300 s, Consul caps it at 600 s). */
  waitSeconds?: number;
  /** Token bucket refill interval: at most one request per this many ms after a burst of 3 (default 100). */
  minIntervalMs?: number;
  burst?: number;
  /** Error backoff: full jitter over base * 2^(n-1), capped (defaults 100 ms and 10 s). */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  headers?: Record<string, string>;
  /** KV answers 404 (with an index) for an empty prefix: when set, a 404 is this body instead of an error. */
  notFoundBody?: unknown;
  fetch?: typeof fetch;
  random?: () => number;
};

export class ConsulHttpError extends Error {
  constructor(
    readonly status: number,
    body: string,
  ) {
    super(`consul answered ${status}: ${body.slice(0, 200)}`);
    this.name = "ConsulHttpError";
  }
}

/** Applies Consul's rules to a returned index: backwards means reset to 0; below 1 means 1. */
export function nextIndex(previous: number, returned: number): number {
  if (returned < previous) return 0;
  if (returned < 1) return 1;
  return returned;
}

/** Runs until `signal` aborts; the promise then resolves (it never rejects). */
export async function watchBlocking<T>(opts: BlockingOptions<T>): Promise<void> {
  const { signal } = opts;
  const doFetch = opts.fetch ?? fetch;
  const random = opts.random ?? Math.random;
  const waitSeconds = opts.waitSeconds ?? 300;
  const bucket = new TokenBucket(opts.burst ?? 3, opts.minIntervalMs ?? 100);
  // Consul adds up to wait/16 of jitter to the wait; the extra 5 s covers the network.
  const timeoutMs = waitSeconds * 1000 + (waitSeconds * 1000) / 16 + 5000;

  let index = 0;
  let lastSeen: number | undefined; // the raw X-Consul-Index of the last delivered value
  let failures = 0;

  while (!signal.aborted) {
    await bucket.take(signal);
    if (signal.aborted) break;
    try {
      const { value, returned } = await query(doFetch, opts.url(index, waitSeconds), opts.headers, signal, timeoutMs, opts.parse, opts.notFoundBody);
      const changed = lastSeen === undefined || returned !== lastSeen;
      if (changed) opts.onChange(value, returned);
      lastSeen = returned;
      index = nextIndex(index, returned);
      failures = 0;
    } catch (err) {
      if (signal.aborted) break;
      failures += 1;
      // After a failure the agent may have restarted with fresh state and a lower index; a blocking
      // read with the old index would then hang for the whole wait, so re-read without blocking first.
      index = 0;
      opts.onError(err, failures);
      await sleep(backoffDelay(failures, random, opts.backoffBaseMs, opts.backoffCapMs), signal);
    }
  }
}

async function query<T>(
  doFetch: typeof fetch,
  url: string,
  headers: Record<string, string> | undefined,
  outer: AbortSignal,
  timeoutMs: number,
  parse: (body: unknown) => T,
  notFoundBody?: unknown,
): Promise<{ value: T; returned: number }> {
  const ctl = new AbortController();
  const onAbort = () => ctl.abort(outer.reason);
  outer.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(() => ctl.abort(new Error(`blocking query timed out after ${timeoutMs} ms`)), timeoutMs);
  try {
    const res = await doFetch(url, { headers, signal: ctl.signal });
    const empty = res.status === 404 && notFoundBody !== undefined;
    if (!res.ok && !empty) throw new ConsulHttpError(res.status, await res.text());
    const raw = res.headers.get("x-consul-index");
    const returned = raw === null ? Number.NaN : Number(raw);
    if (!Number.isSafeInteger(returned) || returned < 0) throw new Error(`bad or missing X-Consul-Index: ${raw}`);
    const value = parse(empty ? (await res.body?.cancel(), notFoundBody) : await res.json());
    return { value, returned };
  } finally {
    clearTimeout(timer);
    outer.removeEventListener("abort", onAbort);
  }
}
