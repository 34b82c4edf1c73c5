// Tests the process set: ready detection from stdout, early-exit diagnostics, and stopping by PID.
// Uses tiny real child processes; every test stops what it starts.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findReadyLine, ProcessSet } from "./proc.ts";

describe("findReadyLine", () => {
  test("finds a pino ready line among other output", () => {
    const text = 'starting\n{"level":30,"msg":"loading"}\n{"level":30,"msg":"ready","port":4}\n';
    expect(findReadyLine(text)).toEqual({ level: 30, msg: "ready", port: 4 });
  });

  test("ignores non-JSON lines and other fields that say ready", () => {
    expect(findReadyLine('"ready"\n{"msg":"not","state":"ready"}\n')).toBeUndefined();
  });
});

describe("ProcessSet", () => {
  const dir = mkdtempSync(join(tmpdir(), "bench-proc-test-"));
  const set = new ProcessSet(dir);
  afterEach(async () => {
    await set.stopAll(500);
  });
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

  test("waitReady returns the ready line of a child", async () => {
    const m = set.spawn("ok", [process.execPath, "-e", 'console.log(JSON.stringify({msg:"ready",port:7})); setInterval(() => {}, 1000)']);
    expect(await set.waitReady(m, { timeoutMs: 5000 })).toEqual({ msg: "ready", port: 7 });
  });

  test("waitReady rejects with stderr when the child exits first", async () => {
    const m = set.spawn("dies", [process.execPath, "-e", 'console.error("boom: no config"); process.exit(3)']);
    await expect(set.waitReady(m, { timeoutMs: 5000 })).rejects.toThrow(/exited \(3\)[\s\S]*boom: no config/);
  });

  test("stopAll kills a child that ignores SIGTERM", async () => {
    const m = set.spawn("stubborn", [process.execPath, "-e", 'process.on("SIGTERM", () => {}); console.log(JSON.stringify({msg:"ready"})); setInterval(() => {}, 1000)']);
    await set.waitReady(m, { timeoutMs: 5000 });
    await set.stopAll(200);
    expect(m.proc.signalCode).toBe("SIGKILL");
  });
});
