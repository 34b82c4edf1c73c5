// The bun:test shim checked against Bun itself: this file runs under `bun test` (the real bun:test) and under
// `npm run test:deno` (test/deno/bun-test-shim.ts), and both must agree on hook order, each-rows and matchers.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";

const log: string[] = [];

beforeAll(() => void log.push("file:beforeAll"));
beforeEach(() => void log.push("file:beforeEach"));
afterEach(() => void log.push("file:afterEach"));

describe("hooks", () => {
  beforeAll(async () => {
    await new Promise((r) => setTimeout(r, 5));
    log.push("outer:beforeAll");
  });
  beforeEach(() => void log.push("outer:beforeEach"));
  afterEach(() => void log.push("outer:afterEach"));
  afterAll(() => void log.push("outer:afterAll"));

  test("first", () => void log.push("first"));
  describe("inner", () => {
    beforeEach(() => void log.push("inner:beforeEach"));
    test("second", () => void log.push("second"));
  });
});

test("hooks ran in Bun's order: outer before inner, afterEach inside out, afterAll after the suite's last test", () => {
  expect(log).toEqual([
    "file:beforeAll",
    "outer:beforeAll", "file:beforeEach", "outer:beforeEach", "first", "outer:afterEach", "file:afterEach",
    "file:beforeEach", "outer:beforeEach", "inner:beforeEach", "second", "outer:afterEach", "file:afterEach",
    "outer:afterAll",
    "file:beforeEach",
  ]);
});

const rows: Array<[number, number, number]> = [];
test.each([
  [1, 2, 3],
  [2, 3, 5],
])("each row spreads into the arguments (%p + %p = %p)", (a, b, sum) => {
  rows.push([a, b, sum]);
  expect(a + b).toBe(sum);
});

test("every each-row ran once, in order", () => {
  expect(rows).toEqual([[1, 2, 3], [2, 3, 5]]);
});

test("matchers used by the shared/ tests, including Bun's own", async () => {
  expect("spiffe://mesh.local/ns/default/svc/echo").toStartWith("spiffe://");
  expect({ a: 1, b: [1, 2], c: undefined } as object).toEqual({ a: 1, b: [1, 2] });
  expect({ a: 1, b: 2 }).toMatchObject({ a: 1 });
  expect(["x", "y"]).toContain("y");
  expect(() => JSON.parse("{")).toThrow();
  await expect(Promise.reject(new TypeError("no"))).rejects.toBeInstanceOf(TypeError);
  expect(["routes[0]: invalid (x)"]).toEqual([expect.stringMatching(/^routes\[0\]: invalid \(.+\)$/)]);
});
