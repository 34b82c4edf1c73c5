// Unit tests for the round-robin balancer: turn order, exclusion for retries, fallback and updates.
// Pure logic: endpoints are plain values, no sockets.
import { describe, expect, test } from "bun:test";
import { createRoundRobin } from "./round-robin.ts";
import { endpoint } from "../../test/support/endpoints.ts";

const ids = (n: number, pick: () => { id: string } | undefined) => Array.from({ length: n }, () => pick()?.id);

describe("round robin", () => {
  test("empty -> undefined", () => {
    const b = createRoundRobin();
    expect(b.pick()).toBeUndefined();
    b.update([]);
    expect(b.pick(new Set(["x"]))).toBeUndefined();
  });

  test("endpoints take turns", () => {
    const b = createRoundRobin();
    b.update([endpoint("a"), endpoint("b"), endpoint("c")]);
    expect(ids(6, () => b.pick())).toEqual(["a", "b", "c", "a", "b", "c"]);
  });

  test("skips excluded ids while another is available", () => {
    const b = createRoundRobin();
    b.update([endpoint("a"), endpoint("b"), endpoint("c")]);
    const tried = new Set(["a", "b"]);
    expect(ids(3, () => b.pick(tried))).toEqual(["c", "c", "c"]);
    expect(b.pick(new Set(["b"]))?.id).toBe("a"); // continues after c, skips nothing
    expect(b.pick(new Set(["b"]))?.id).toBe("c");
  });

  test("falls back to the other endpoints in turn when all were tried, never the last one tried", () => {
    const b = createRoundRobin();
    b.update([endpoint("a"), endpoint("b"), endpoint("c")]);
    const all = new Set(["a", "c", "b"]);
    expect(ids(4, () => b.pick(all))).toEqual(["a", "c", "a", "c"]);
  });

  test("update replaces the set; a shrinking set never yields undefined", () => {
    const b = createRoundRobin();
    b.update([endpoint("a"), endpoint("b"), endpoint("c")]);
    b.pick();
    b.pick();
    b.update([endpoint("x")]);
    expect(ids(2, () => b.pick())).toEqual(["x", "x"]);
  });

  test("start/report are accepted and change nothing", () => {
    const b = createRoundRobin();
    const a = endpoint("a");
    b.update([a, endpoint("b")]);
    b.start(a);
    b.report(a, "connect-failure");
    expect(ids(2, () => b.pick())).toEqual(["a", "b"]);
  });

  test("when a retry has tried everything, it avoids the endpoint that failed last (a dead host is not tried twice in a row)", () => {
    const b = createRoundRobin();
    b.update([endpoint("a"), endpoint("b")]);
    expect(b.pick()?.id).toBe("a"); // the turn is now b's
    expect(b.pick(new Set(["a", "b"]))?.id).toBe("a");
    expect(b.pick(new Set(["b", "a"]))?.id).toBe("b");
  });
});
