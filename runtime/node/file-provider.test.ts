// Tests for the file provider against real temp files: first read, in-place edits, rename-replace, bad reads.
// Every iterator is closed in `finally`, so a failing test leaves no watcher or timer behind.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConfigIssue } from "../../shared/config/issues.ts";
import { watchConfigFile, type ConfigText } from "./file-provider.ts";

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "mesh-fp-"))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** next() with a deadline, so a missed change fails the test instead of hanging it. */
async function nextWithin(it: AsyncIterator<ConfigText>, ms: number): Promise<ConfigText | "timeout" | "done"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), ms)));
  try {
    const r = await Promise.race([it.next(), timeout]);
    if (r === "timeout") return r;
    return r.done ? "done" : r.value;
  } finally {
    clearTimeout(timer);
  }
}

describe("watchConfigFile", () => {
  test("yields the current content, then each change", async () => {
    const file = join(dir, "mesh.yaml");
    writeFileSync(file, "a: 1\n");
    const it = watchConfigFile(file, { debounceMs: 20 })[Symbol.asyncIterator]();
    try {
      expect(await nextWithin(it, 2000)).toEqual({ text: "a: 1\n", source: file });
      writeFileSync(file, "a: 2\n");
      expect(await nextWithin(it, 3000)).toEqual({ text: "a: 2\n", source: file });
    } finally {
      await it.return?.();
    }
  });

  test("follows a rename-replace (how editors save)", async () => {
    const file = join(dir, "mesh.yaml");
    writeFileSync(file, "v: 1\n");
    const it = watchConfigFile(file, { debounceMs: 20 })[Symbol.asyncIterator]();
    try {
      expect(await nextWithin(it, 2000)).toEqual({ text: "v: 1\n", source: file });
      for (const v of [2, 3]) {
        const tmp = join(dir, `.mesh.yaml.${v}.tmp`);
        writeFileSync(tmp, `v: ${v}\n`);
        renameSync(tmp, file);
        expect(await nextWithin(it, 3000)).toEqual({ text: `v: ${v}\n`, source: file });
      }
    } finally {
      await it.return?.();
    }
  });

  test("a missing file is reported once, yields nothing, and the watch keeps going", async () => {
    const file = join(dir, "mesh.yaml");
    writeFileSync(file, "a: 1\n");
    const errors: ConfigIssue[] = [];
    const it = watchConfigFile(file, { debounceMs: 20, pollMs: 100, onError: (e) => errors.push(e) })[Symbol.asyncIterator]();
    try {
      expect(await nextWithin(it, 2000)).toEqual({ text: "a: 1\n", source: file });
      unlinkSync(file);
      expect(await nextWithin(it, 500)).toBe("timeout");
      expect(errors.length).toBe(1);
      expect(errors[0]?.path).toBe("(root)");
      expect(errors[0]?.source).toBe(file);
      expect(errors[0]?.message).toMatch(/^cannot read config file: .*ENOENT/);
      writeFileSync(file, "a: 3\n");
      expect(await nextWithin(it, 3000)).toEqual({ text: "a: 3\n", source: file });
    } finally {
      await it.return?.();
    }
  });

  test("the poll catches changes the watcher never reports", async () => {
    // No file at start and the directory appears later: fs.watch cannot be armed until the poll re-arms it.
    const sub = join(dir, "later");
    const file = join(sub, "mesh.yaml");
    const errors: ConfigIssue[] = [];
    const it = watchConfigFile(file, { debounceMs: 20, pollMs: 100, onError: (e) => errors.push(e) })[Symbol.asyncIterator]();
    try {
      const pending = nextWithin(it, 3000);
      await new Promise((r) => setTimeout(r, 150));
      mkdirSync(sub);
      writeFileSync(file, "late: true\n");
      expect(await pending).toEqual({ text: "late: true\n", source: file });
      expect(errors.length).toBe(1);
    } finally {
      await it.return?.();
    }
  });

  test("identical rewrites are not yielded again", async () => {
    const file = join(dir, "mesh.yaml");
    writeFileSync(file, "same\n");
    const it = watchConfigFile(file, { debounceMs: 20, pollMs: 100 })[Symbol.asyncIterator]();
    try {
      expect(await nextWithin(it, 2000)).toEqual({ text: "same\n", source: file });
      writeFileSync(file, "same\n");
      expect(await nextWithin(it, 400)).toBe("timeout");
    } finally {
      await it.return?.();
    }
  });

  test("return() and abort end a pending next()", async () => {
    const file = join(dir, "mesh.yaml");
    writeFileSync(file, "a\n");
    const ac = new AbortController();
    const it = watchConfigFile(file, { signal: ac.signal })[Symbol.asyncIterator]();
    await nextWithin(it, 2000);
    const pending = nextWithin(it, 2000);
    ac.abort();
    expect(await pending).toBe("done");

    const it2 = watchConfigFile(file)[Symbol.asyncIterator]();
    await nextWithin(it2, 2000);
    const pending2 = nextWithin(it2, 2000);
    await it2.return?.();
    expect(await pending2).toBe("done");
  });
});
