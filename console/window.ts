// Rates between two scrapes of one member, and the p99 from histogram bucket deltas, the way PromQL's rate() and
// histogram_quantile() compute them (a counter that went down was reset: its current value is the increase).
import type { EdgeCounters } from "./figures.ts";

export type EdgeRate = { rps: number; errorRatio: number | undefined; p99Ms: number | undefined; requests: number };

const increase = (now: number, before: number | undefined): number => (before === undefined || now < before ? now : now - before);

/**
 * Linear interpolation inside the bucket holding the q-th request; the +Inf bucket answers with the largest finite
 * bound (as Prometheus does). Undefined without observations.
 */
export function quantile(q: number, bounds: readonly number[], cumulative: readonly number[]): number | undefined {
  const total = cumulative[cumulative.length - 1] ?? 0;
  if (total <= 0 || bounds.length === 0) return undefined;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    if (cumulative[i]! < rank) continue;
    const upper = bounds[i]!;
    if (upper === Infinity) return bounds.length > 1 ? bounds[bounds.length - 2] : undefined;
    const lower = i === 0 ? 0 : bounds[i - 1]!;
    const below = i === 0 ? 0 : cumulative[i - 1]!;
    const inBucket = cumulative[i]! - below;
    return inBucket <= 0 ? upper : lower + (upper - lower) * ((rank - below) / inBucket);
  }
  return undefined;
}

/** One edge's increase between two scrapes of one member, `seconds` apart; `before` undefined = it just appeared. */
export type EdgeDelta = { requests: number; errors: number; buckets: number[]; rps: number };

export function edgeDelta(now: EdgeCounters, before: EdgeCounters | undefined, seconds: number): EdgeDelta {
  // A total that went down means the member restarted: everything it counts now is new.
  const prev = before !== undefined && now.total < before.total ? undefined : before;
  const requests = increase(now.total, prev?.total);
  return {
    requests,
    errors: increase(now.errors, prev?.errors),
    buckets: now.buckets.map((b, i) => increase(b, prev?.buckets[i])),
    rps: seconds > 0 ? requests / seconds : 0,
  };
}

/** Instances of one service add up: rates and bucket increases sum (bounds are the same contract for every member). */
export function mergeDeltas(into: EdgeDelta | undefined, d: EdgeDelta): EdgeDelta {
  if (into === undefined) return { ...d, buckets: [...d.buckets] };
  into.requests += d.requests;
  into.errors += d.errors;
  into.rps += d.rps;
  d.buckets.forEach((b, i) => (into.buckets[i] = (into.buckets[i] ?? 0) + b));
  return into;
}

export function summarize(d: EdgeDelta, bounds: readonly number[]): EdgeRate {
  const p99 = quantile(0.99, bounds, d.buckets);
  return { rps: d.rps, errorRatio: d.requests > 0 ? d.errors / d.requests : undefined, p99Ms: p99 === undefined ? undefined : p99 * 1000, requests: d.requests };
}
