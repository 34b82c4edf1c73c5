// Unit tests of openConfigSource in file mode: the first state is read once, replayed to the watcher and then let go;
// each state's check is logged with its duration (what a large config costs at start shows in the member's log).
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openConfigSource, type ConfigSource } from "./config-source.ts";
import { createReclaimer, LARGE_READ_CHARS } from "./reclaim.ts";

type Line = { level: string; fields: Record<string, unknown>; msg: string };

function recorder(): { lines: Line[]; log: { info(o: object, m: string): void; error(o: object, m: string): void; warn(o: object, m: string): void } } {
  const lines: Line[] = [];
  const at = (level: string) => (fields: object, msg: string) => void lines.push({ level, fields: fields as Record<string, unknown>, msg });
  return { lines, log: { info: at("info"), error: at("error"), warn: at("warn") } };
}

let dir: string | undefined;
let source: ConfigSource | undefined;
afterEach(() => {
  source?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  source = undefined;
  dir = undefined;
});

describe("openConfigSource (file)", () => {
  test("the first state is checked once, logged with its duration, replayed to the watcher, then let go", async () => {
    dir = mkdtempSync(join(tmpdir(), "config-source-"));
    const file = join(dir, "mesh.yaml");
    writeFileSync(file, "services: { echo: {} }\n");
    const { lines, log } = recorder();
    source = await openConfigSource({ configPath: file, consul: undefined, kvPrefix: "mesh/", log });
    expect(Object.keys(source.first.services ?? {})).toEqual(["echo"]);

    const checked = lines.filter((l) => l.msg === "config checked");
    expect(checked).toHaveLength(1);
    expect(checked[0]!.level).toBe("info");
    expect(checked[0]!.fields).toMatchObject({ source: file, valid: true });
    expect(typeof checked[0]!.fields.checkMs).toBe("number");

    const it = source.updates[Symbol.asyncIterator]();
    const head = await it.next();
    expect(head.done).toBe(false);
    expect(head.value?.result.ok).toBe(true);
    expect(lines.filter((l) => l.msg === "config checked")).toHaveLength(1); // replayed, not checked again
    // Handed on: the source no longer holds the first config (the snapshot compiled from it is what stays).
    expect(() => source!.first).toThrow(/after the first state was handed to the watcher/);
    await it.return?.();
  });

  test("an invalid first state is refused with its issues", async () => {
    dir = mkdtempSync(join(tmpdir(), "config-source-"));
    const file = join(dir, "mesh.yaml");
    writeFileSync(file, "namespace: a\nnamespace: b\n");
    const { lines, log } = recorder();
    await expect(openConfigSource({ configPath: file, consul: undefined, kvPrefix: "mesh/", log })).rejects.toThrow(/YAML syntax error at 2:1/);
    expect(lines.find((l) => l.msg === "config checked")?.fields).toMatchObject({ valid: false });
  });

  test("a large state handed to the watcher is followed by one collection; a small one by none", async () => {
    dir = mkdtempSync(join(tmpdir(), "config-source-"));
    const file = join(dir, "mesh.yaml");
    // Comments count: it is the text's size that says how much a read leaves behind.
    writeFileSync(file, `services: { echo: {} }\n${`# ${"x".repeat(1000)}\n`.repeat(Math.ceil(LARGE_READ_CHARS / 1000))}`);
    let collected = 0;
    const reclaimer = createReclaimer(() => void collected++);
    source = await openConfigSource({ configPath: file, consul: undefined, kvPrefix: "mesh/", log: recorder().log, reclaimer });
    await Bun.sleep(5);
    expect(collected).toBe(0); // read and checked, but not handed on: the first config is still held here

    const it = source.updates[Symbol.asyncIterator]();
    expect((await it.next()).done).toBe(false);
    await Bun.sleep(5);
    expect(collected).toBe(1);

    writeFileSync(file, "services: { echo: {}, other: {} }\n");
    const next = await it.next();
    expect(next.value?.result.ok).toBe(true);
    await Bun.sleep(5);
    expect(collected).toBe(1);
    await it.return?.();
  });
});
