// Tests the median and ratio helpers the bench summarizes rounds with.
// Ratios must stay undefined without a reference rather than print Infinity.
import { expect, test } from "bun:test";
import { median, ratio } from "./stats.ts";

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
