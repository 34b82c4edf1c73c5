// The file provider: yields a config file's text now and after every change (the embedded default source).
// fs.watch alone misses events (editors replace files by rename, some filesystems never notify), so a 1 s stat poll backs it up.
import { watch, type FSWatcher } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { ROOT_PATH, type ConfigIssue } from "../../shared/config/issues.ts";

export type ConfigText = { text: string; source: string };

export type WatchFileOptions = {
  /** Quiet time after the last change event before reading (editors write in several steps). Default 75 ms. */
  debounceMs?: number;
  /** How often the stat fallback looks at mtime/size/inode. Default 1000 ms. */
  pollMs?: number;
  /** Aborting ends the iteration and releases the watcher and timers. */
  signal?: AbortSignal;
  /**
   * A missing or unreadable file yields nothing (the caller keeps its last good config) but is reported here,
   * once per distinct error until a read succeeds again. `path` is always `(root)`.
   */
  onError?: (issue: ConfigIssue) => void;
};

/**
 * Current content first, then each change. Identical content is not yielded twice.
 * One consumer per iterator; `return()` (a `break` out of `for await`) or the signal stops it at once.
 */
export function watchConfigFile(path: string, opts: WatchFileOptions = {}): AsyncIterable<ConfigText> {
  return { [Symbol.asyncIterator]: () => startWatching(path, opts) };
}

function startWatching(path: string, opts: WatchFileOptions): AsyncIterator<ConfigText> {
  const debounceMs = opts.debounceMs ?? 75;
  let closed = false;
  let dirty = true; // read once straight away, without debounce
  let wake: (() => void) | undefined;
  let debounce: ReturnType<typeof setTimeout> | undefined;
  let watcher: FSWatcher | undefined;
  let lastText: string | undefined;
  let lastError: string | undefined;
  let lastStat: string | undefined;

  const kick = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const changed = (): void => {
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      dirty = true;
      kick();
    }, debounceMs);
  };

  // Watch the file itself, not its directory: a busy directory (logs next to the config) made Bun's watcher
  // stat on every event, 13 % of a sidecar's CPU under load. A rename-replace swaps the inode, so a "rename"
  // event re-arms the watch on the new file, and the 1 s stat poll catches anything the watch misses.
  const arm = (): void => {
    if (watcher !== undefined || closed) return;
    try {
      watcher = watch(path, (event) => {
        changed();
        if (event === "rename") rearm();
      });
      watcher.on("error", () => rearm());
    } catch {
      watcher = undefined; // file missing for now; the poll keeps trying
    }
  };
  const rearm = (): void => {
    watcher?.close();
    watcher = undefined;
    // The new file may appear a moment after the old one went away (write temp, then rename).
    setTimeout(arm, 10);
  };

  const poll = setInterval(() => {
    arm();
    stat(path).then(
      (s) => `${s.ino}:${s.size}:${s.mtimeMs}`,
      (e: unknown) => `error:${(e as NodeJS.ErrnoException).code ?? ""}`,
    ).then((key) => {
      if (closed || key === lastStat) return;
      lastStat = key;
      changed();
    });
  }, opts.pollMs ?? 1000);

  const close = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(poll);
    clearTimeout(debounce);
    watcher?.close();
    watcher = undefined;
    opts.signal?.removeEventListener("abort", close);
    kick();
  };
  if (opts.signal?.aborted) close();
  opts.signal?.addEventListener("abort", close);
  arm();

  const read = async (): Promise<string | undefined> => {
    try {
      const text = await readFile(path, "utf8");
      lastError = undefined;
      return text;
    } catch (e) {
      const message = `cannot read config file: ${e instanceof Error ? e.message : String(e)}`;
      if (message !== lastError) {
        lastError = message;
        opts.onError?.({ source: path, path: ROOT_PATH, message });
      }
      return undefined;
    }
  };

  return {
    async next(): Promise<IteratorResult<ConfigText>> {
      while (!closed) {
        if (dirty) {
          dirty = false;
          const text = await read();
          if (closed) break;
          if (text !== undefined && text !== lastText) {
            lastText = text;
            return { value: { text, source: path }, done: false };
          }
          continue;
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
      return { value: undefined, done: true };
    },
    async return(): Promise<IteratorResult<ConfigText>> {
      close();
      return { value: undefined, done: true };
    },
  };
}
