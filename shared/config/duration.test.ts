// Tests for parseDuration: every unit, and refusal of what the schema would refuse.
// Compile steps rely on the exact millisecond values.
import { describe, expect, test } from "bun:test";
import { parseDuration } from "./duration.ts";

describe("parseDuration", () => {
  test("reads ms, s and m", () => {
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("5s")).toBe(5000);
    expect(parseDuration("2m")).toBe(120_000);
    expect(parseDuration("0s")).toBe(0);
  });
  test("rejects other forms", () => {
    for (const bad of ["5", "1.5s", "5 s", "1h", "-1s", "", "s", "5S"]) {
      expect(() => parseDuration(bad)).toThrow(/invalid duration/);
    }
  });
  test("rejects values beyond safe integers", () => {
    expect(() => parseDuration("99999999999999999999m")).toThrow(/too large/);
  });
});
