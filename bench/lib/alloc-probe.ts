// Preloaded into a proxy by bench/alloc.ts (`bun --preload`): the first SIGUSR2 collects and notes JSC's object counts,
// the second writes what was allocated since as one stderr line, and whether a collection ran in between.
import { heapStats } from "bun:jsc";
import { ALLOC_LINE, type AllocWindow } from "./alloc-count.ts";

let base: Record<string, number> | undefined;
let sentinel: WeakRef<object> | undefined;
let since = 0;

process.on("SIGUSR2", () => {
  if (base === undefined) {
    Bun.gc(true);
    base = { ...heapStats().objectTypeCounts };
    // Young and unreferenced: any collection before the second signal clears it, and the counts would then miss
    // whatever that collection freed.
    sentinel = new WeakRef({});
    since = performance.now();
    return;
  }
  const counts: Record<string, number> = {};
  for (const [k, v] of Object.entries(heapStats().objectTypeCounts)) {
    const d = v - (base[k] ?? 0);
    if (d > 0) counts[k] = d;
  }
  const w: AllocWindow = { collected: sentinel?.deref() === undefined, ms: performance.now() - since, counts };
  process.stderr.write(`${ALLOC_LINE}${JSON.stringify(w)}\n`);
  base = undefined;
});
