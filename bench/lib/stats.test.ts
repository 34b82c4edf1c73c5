// Tests the median and ratio helpers the bench summarizes rounds with.
// Ratios must stay undefined without a reference rather than print Infinity.
import { expect, test } from "bun:test";
import { median, medianInterval, ratio } from "./stats.ts";

test("median of odd, even and empty lists, regardless of order", () => {
  expect(median([3, 1, 2])).toBe(2);
  expect(median([4, 1, 3, 2])).toBe(2.5);
  expect(median([])).toBeNaN();
});

test("ratio needs both values and a non-zero reference", () => {
  expect(ratio(30, 60)).toBe(0.5);
  expect(ratio(undefined, 60)).toBeUndefined();
  expect(ratio(30, undefined)).toBeUndefined();
  expect(ratio(30, 0)).toBeUndefined();
});

test("the median's interval: the sign test's order statistics, none below 6 values at 95 %", () => {
  const twelve = [1.9, 1.1, 1.25, 1.3, 1.2, 1.4, 1.35, 1.28, 1.22, 1.15, 1.32, 1.5];
  // Sorted: 1.1 1.15 [1.2] 1.22 1.25 1.28 1.3 1.32 1.35 [1.4] 1.5 1.9: the 3rd smallest to the 3rd largest.
  expect(medianInterval(twelve)).toEqual({ lo: 1.2, hi: 1.4, coverage: 1 - (2 * 79) / 4096 });
  expect(medianInterval([5, 1, 4, 2, 6, 3])).toEqual({ lo: 1, hi: 6, coverage: 1 - 2 / 64 });
  expect(medianInterval([1, 2, 3, 4, 5])).toBeUndefined();
  expect(medianInterval([])).toBeUndefined();
  const twenty = Array.from({ length: 20 }, (_, i) => 20 - i);
  expect(medianInterval(twenty)).toMatchObject({ lo: 6, hi: 15 });
  expect(medianInterval(twenty)!.coverage).toBeCloseTo(0.9586, 4);
});
