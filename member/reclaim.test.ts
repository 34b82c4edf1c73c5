// Unit tests of the reclaimer: one collection after a large state is handed on (after the current microtasks, where
// the watcher compiles and applies it), none for small states or without a runtime collection, and repeats coalesce.
import { describe, expect, test } from "bun:test";
import { createReclaimer, LARGE_READ_CHARS } from "./reclaim.ts";

const tick = () => new Promise((r) => setTimeout(r, 5));

describe("createReclaimer", () => {
  test("a large state gets one collection, after the microtasks that follow the hand-on", async () => {
    const order: string[] = [];
    const r = createReclaimer(() => void order.push("collect"));
    r.handedOn(LARGE_READ_CHARS);
    queueMicrotask(() => order.push("compile+apply"));
    expect(order).toEqual([]);
    await tick();
    expect(order).toEqual(["compile+apply", "collect"]);
    expect(r.collections()).toBe(1);
  });

  test("small states and runtimes without a collection schedule nothing", async () => {
    let n = 0;
    const small = createReclaimer(() => void n++);
    small.handedOn(LARGE_READ_CHARS - 1);
    const none = createReclaimer(undefined);
    none.handedOn(10 * LARGE_READ_CHARS);
    await tick();
    expect(n).toBe(0);
    expect(small.collections()).toBe(0);
    expect(none.collections()).toBe(0);
  });

  test("states handed on before the collection ran share it; a later one gets its own", async () => {
    let n = 0;
    const r = createReclaimer(() => void n++, 10);
    r.handedOn(10);
    r.handedOn(20);
    await tick();
    expect(n).toBe(1);
    r.handedOn(30);
    await tick();
    expect(n).toBe(2);
  });
});
