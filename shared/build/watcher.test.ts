// Tests for the keep-last-good engine with a hand-fed update stream (pure logic, no files).
// Covers apply, reject (last good stays), dedupe, compile throwing, versions and stop().
import { describe, expect, test } from "bun:test";
import type { ConfigIssue } from "../config/issues.ts";
import type { MeshConfig } from "../config/schema.ts";
import { createConfigWatcher } from "./watcher.ts";

/** An async stream the test pushes into; `end()` finishes it. */
function feed() {
  const queue: { text: string; source: string }[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  let returned = false;
  const iterable: AsyncIterable<{ text: string; source: string }> = {
    [Symbol.asyncIterator]: () => ({
      async next() {
        while (queue.length === 0 && !ended) await new Promise<void>((r) => (wake = r));
        const value = queue.shift();
        return value === undefined ? { value: undefined, done: true as const } : { value, done: false as const };
      },
      async return() {
        returned = true;
        return { value: undefined, done: true as const };
      },
    }),
  };
  return {
    iterable,
    push(text: string, source = "t.yaml") {
      queue.push({ text, source });
      wake?.();
    },
    end() {
      ended = true;
      wake?.();
    },
    returned: () => returned,
  };
}

const GOOD_A = "namespace: a\n";
const GOOD_B = "namespace: b\n";
const BAD = "namespace: a\nfoo: 1\n";

function setup(compile: (c: MeshConfig) => string = (c) => c.namespace ?? "") {
  const f = feed();
  const applied: { value: string; source: string; version: number }[] = [];
  const rejected: ConfigIssue[][] = [];
  const restored: { source: string; version: number }[] = [];
  const w = createConfigWatcher({
    updates: f.iterable,
    compile,
    onApply: (value, info) => applied.push({ value, ...info }),
    onReject: (issues) => rejected.push(issues),
    onRestored: (info) => restored.push(info),
  });
  return { f, w, applied, rejected, restored };
}

describe("createConfigWatcher", () => {
  test("applies valid configs with increasing versions", async () => {
    const { f, w, applied, rejected } = setup();
    f.push(GOOD_A, "one.yaml");
    f.push(GOOD_B, "two.yaml");
    f.end();
    await w.done;
    expect(applied).toEqual([
      { value: "a", source: "one.yaml", version: 1 },
      { value: "b", source: "two.yaml", version: 2 },
    ]);
    expect(rejected).toEqual([]);
  });

  test("rejects invalid text and keeps the last good", async () => {
    const { f, w, applied, rejected } = setup();
    f.push(GOOD_A);
    f.push(BAD);
    f.push(GOOD_B);
    f.end();
    await w.done;
    expect(rejected).toEqual([[{ source: "t.yaml", path: "(root)", message: 'unknown key "foo"' }]]);
    expect(applied.map((a) => [a.value, a.version])).toEqual([
      ["a", 1],
      ["b", 2],
    ]);
  });

  test("identical text is not applied or rejected twice; returning to the live text is a no-op", async () => {
    const { f, w, applied, rejected } = setup();
    for (const t of [GOOD_A, GOOD_A, BAD, BAD, GOOD_A, GOOD_B, GOOD_B]) f.push(t);
    f.end();
    await w.done;
    expect(applied.map((a) => [a.value, a.version])).toEqual([
      ["a", 1],
      ["b", 2],
    ]);
    expect(rejected.length).toBe(1);
  });

  test("restoring the applied text after a rejection reports it restored, without applying it again", async () => {
    const { f, w, applied, rejected, restored } = setup();
    f.push(GOOD_A, "one.yaml");
    f.push(BAD, "one.yaml");
    f.push(GOOD_A, "one.yaml");
    f.push(GOOD_A, "one.yaml"); // a repeat: nothing more
    f.end();
    await w.done;
    expect(applied.map((a) => a.version)).toEqual([1]);
    expect(rejected.length).toBe(1);
    expect(restored).toEqual([{ source: "one.yaml", version: 1 }]);
  });

  test("no restore is reported when nothing was rejected in between", async () => {
    const { f, w, restored } = setup();
    for (const t of [GOOD_A, GOOD_B, GOOD_A]) f.push(t);
    f.end();
    await w.done;
    expect(restored).toEqual([]);
  });

  test("a throwing compile is a rejection at (root)", async () => {
    const { f, w, applied, rejected } = setup((c) => {
      if (c.namespace === "b") throw new Error("no cluster for b");
      return c.namespace ?? "";
    });
    f.push(GOOD_A);
    f.push(GOOD_B);
    f.end();
    await w.done;
    expect(applied.map((a) => a.value)).toEqual(["a"]);
    expect(rejected).toEqual([[{ source: "t.yaml", path: "(root)", message: "compile failed: no cluster for b" }]]);
  });

  test("stop() ends a watcher blocked on its provider and closes the provider", async () => {
    const { f, w, applied } = setup();
    f.push(GOOD_A);
    await new Promise((r) => setTimeout(r, 10));
    w.stop();
    await w.done;
    expect(f.returned()).toBe(true);
    f.push(GOOD_B); // after stop: ignored
    await new Promise((r) => setTimeout(r, 10));
    expect(applied.map((a) => a.value)).toEqual(["a"]);
  });
});
