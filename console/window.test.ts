// Rates and p99 between two scrapes, checked against numbers worked out by hand (PromQL's rules: resets, +Inf).
import { expect, test } from "bun:test";
import { edgeDelta, mergeDeltas, quantile, summarize } from "./window.ts";

const BOUNDS = [0.001, 0.01, 0.1, Infinity];

test("quantile interpolates inside the bucket that holds the rank, like histogram_quantile", () => {
  // 100 observations: 50 under 1 ms, 40 in (1, 10] ms, 10 in (10, 100] ms. Rank 99 is the 9th of the last 10.
  expect(quantile(0.99, BOUNDS, [50, 90, 100, 100])).toBeCloseTo(0.01 + 0.09 * 0.9, 10);
  expect(quantile(0.5, BOUNDS, [50, 90, 100, 100])).toBeCloseTo(0.001, 10);
  // Everything past the last finite bound answers with that bound; no observations, no answer.
  expect(quantile(0.99, BOUNDS, [0, 0, 0, 10])).toBe(0.1);
  expect(quantile(0.99, BOUNDS, [0, 0, 0, 0])).toBeUndefined();
});

test("a delta is what happened between scrapes; a counter that went down was reset", () => {
  const before = { total: 100, errors: 5, buckets: [50, 90, 100, 100] };
  const now = { total: 300, errors: 15, buckets: [150, 280, 300, 300] };
  const d = edgeDelta(now, before, 10);
  expect(d).toEqual({ requests: 200, errors: 10, buckets: [100, 190, 200, 200], rps: 20 });
  const r = summarize(d, BOUNDS);
  expect(r.rps).toBe(20);
  expect(r.errorRatio).toBe(0.05);
  expect(r.p99Ms).toBeCloseTo((0.01 + 0.09 * (198 - 190) / 10) * 1000, 6);
  // After a restart the member counts from zero: its current counts are the increase.
  expect(edgeDelta({ total: 7, errors: 0, buckets: [7, 7, 7, 7] }, before, 5)).toEqual({ requests: 7, errors: 0, buckets: [7, 7, 7, 7], rps: 1.4 });
  // A new edge (no earlier scrape of it) counts everything it has.
  expect(edgeDelta(now, undefined, 10).requests).toBe(300);
});

test("instances of one service add up; no requests means no error ratio and no p99", () => {
  const a = edgeDelta({ total: 10, errors: 1, buckets: [10, 10, 10, 10] }, { total: 0, errors: 0, buckets: [0, 0, 0, 0] }, 2);
  const b = edgeDelta({ total: 30, errors: 3, buckets: [0, 30, 30, 30] }, { total: 0, errors: 0, buckets: [0, 0, 0, 0] }, 3);
  const m = mergeDeltas(mergeDeltas(undefined, a), b);
  expect(m).toEqual({ requests: 40, errors: 4, buckets: [10, 40, 40, 40], rps: 15 });
  expect(a.buckets).toEqual([10, 10, 10, 10]); // merging copies: the first instance's delta is not changed
  expect(summarize(edgeDelta({ total: 5, errors: 0, buckets: [5, 5, 5, 5] }, { total: 5, errors: 0, buckets: [5, 5, 5, 5] }, 2), BOUNDS)).toEqual({ rps: 0, errorRatio: undefined, p99Ms: undefined, requests: 0 });
});
