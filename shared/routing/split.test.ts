// Unit tests for the weighted split: exact boundaries with an injected random, and an 80/20 distribution check.
// The statistical bound is ±5 binomial standard deviations, so the test is not flaky yet still catches skew.
import { describe, expect, test } from "bun:test";
import { createWeightedPicker } from "./split.ts";

describe("createWeightedPicker", () => {
  test("deterministic: injected random maps onto cumulative weights", () => {
    let next = 0;
    const pick = createWeightedPicker(
      [
        { value: "a", weight: 80 },
        { value: "b", weight: 20 },
      ],
      () => next,
    );
    const at = (r: number) => ((next = r), pick());
    expect(at(0)).toBe("a");
    expect(at(0.799)).toBe("a");
    expect(at(0.8)).toBe("b");
    expect(at(0.999999)).toBe("b");
  });

  test("zero weights are never picked", () => {
    let next = 0;
    const pick = createWeightedPicker(
      [
        { value: "zero-first", weight: 0 },
        { value: "a", weight: 1 },
        { value: "zero-mid", weight: 0 },
        { value: "b", weight: 1 },
        { value: "zero-last", weight: 0 },
      ],
      () => next,
    );
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) {
      next = i / 100;
      seen.add(pick());
    }
    expect([...seen].sort()).toEqual(["a", "b"]);
  });

  test("a single non-zero weight always wins", () => {
    const pick = createWeightedPicker([
      { value: "only", weight: 5 },
      { value: "never", weight: 0 },
    ]);
    for (let i = 0; i < 50; i++) expect(pick()).toBe("only");
  });

  test("rejects a zero total and bad weights", () => {
    expect(() => createWeightedPicker([{ value: 1, weight: 0 }])).toThrow("total weight");
    expect(() => createWeightedPicker([])).toThrow("total weight");
    expect(() => createWeightedPicker([{ value: 1, weight: -1 }])).toThrow("integer");
    expect(() => createWeightedPicker([{ value: 1, weight: 1.5 }])).toThrow("integer");
  });

  test("80/20 over 10,000 picks stays within ±5σ of the expected count", () => {
    const n = 10_000;
    const p = 0.8;
    const pick = createWeightedPicker([
      { value: "a", weight: 80 },
      { value: "b", weight: 20 },
    ]);
    let a = 0;
    for (let i = 0; i < n; i++) if (pick() === "a") a++;
    const sigma = Math.sqrt(n * p * (1 - p)); // 40
    expect(Math.abs(a - n * p)).toBeLessThanOrEqual(5 * sigma);
  });

  test("three-way split distributes by weight", () => {
    const n = 30_000;
    const pick = createWeightedPicker([
      { value: 0, weight: 1 },
      { value: 1, weight: 2 },
      { value: 2, weight: 3 },
    ]);
    const counts = [0, 0, 0];
    for (let i = 0; i < n; i++) counts[pick()]!++;
    [1 / 6, 2 / 6, 3 / 6].forEach((p, i) => {
      const sigma = Math.sqrt(n * p * (1 - p));
      expect(Math.abs(counts[i]! - n * p)).toBeLessThanOrEqual(5 * sigma);
    });
  });
});
