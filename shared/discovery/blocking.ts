// A generic Consul blocking-query loop (runtime-neutral: the caller brings the one request as `fetchOnce`):
// follows Consul's index rules, rate-limits with a token bucket, backs off with jitter on errors, stops on abort.
import { backoffDelay, sleep, TokenBucket } from "./pacing.ts";

/** One answer: the body, or "not found" (KV answers 404 for an empty prefix), with X-Consul-Index (NaN if absent). */
export type BlockingAnswer = { index: number; body: unknown } | { index: number; notFound: true };

/** One request. `index` 0 means a plain read (no index, no wait); `signal` aborts it (loop ended or timed out). */
export type FetchOnce = (index: number, waitSeconds: number, signal: AbortSignal) => Promise<BlockingAnswer>;

export type BlockingOptions<T> = {
  fetchOnce: FetchOnce;
  /** Turns the body into a value; throwing counts as a failed request (the index is not advanced). */
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
  /** When set, a "not found" answer is parsed as this body; otherwise it counts as a failure. */
  notFoundBody?: unknown;
  random?: () => number;
};

/** Applies Consul's rules to a returned index: backwards means reset to 0; below 1 means 1. */
export function nextIndex(previous: number, returned: number): number {
  if (returned < previous) return 0;
  if (returned < 1) return 1;
  return returned;
}

/** Runs until `signal` aborts; the promise then resolves (it never rejects). */
export async function watchBlocking<T>(opts: BlockingOptions<T>): Promise<void> {
  const { signal } = opts;
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
      const { value, returned } = await query(opts, index, waitSeconds, timeoutMs);
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

async function query<T>(opts: BlockingOptions<T>, index: number, waitSeconds: number, timeoutMs: number): Promise<{ value: T; returned: number }> {
  const outer = opts.signal;
  const ctl = new AbortController();
  const onAbort = () => ctl.abort(outer.reason);
  outer.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(() => ctl.abort(new Error(`blocking query timed out after ${timeoutMs} ms`)), timeoutMs);
  let answer: BlockingAnswer;
  try {
    answer = await opts.fetchOnce(index, waitSeconds, ctl.signal);
  } catch (err) {
    // Our own timeout says so, rather than the client's generic "aborted".
    throw ctl.signal.aborted && !outer.aborted ? ctl.signal.reason : err;
  } finally {
    clearTimeout(timer);
    outer.removeEventListener("abort", onAbort);
  }
  const returned = answer.index;
  if (!Number.isSafeInteger(returned) || returned < 0) throw new Error(`bad or missing X-Consul-Index: ${returned}`);
  if (!("notFound" in answer)) return { value: opts.parse(answer.body), returned };
  if (opts.notFoundBody === undefined) throw new Error("consul answered 404 (not found)");
  return { value: opts.parse(opts.notFoundBody), returned };
}
