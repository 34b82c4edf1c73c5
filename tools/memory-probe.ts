// Preloaded into a process under measurement (`bun --preload tools/memory-probe.ts ...`): on SIGUSR2 it writes one
// JSON line to stderr with process.memoryUsage() and JSC's heapStats(), so a real sidecar can be inspected unchanged.
import { heapStats } from "bun:jsc";

const mb = (n: number): number => Math.round((n / 1048576) * 10) / 10;

process.on("SIGUSR2", () => {
  const before = process.memoryUsage();
  const h = heapStats();
  // A collection first would hide what an idle process really holds; it is reported second, as what could be freed.
  Bun.gc(true);
  const after = process.memoryUsage();
  const top = Object.entries(h.objectTypeCounts).sort((a, b) => b[1] - a[1]).slice(0, 12);
  const line = {
    probe: "memory",
    rss: mb(before.rss), heapUsed: mb(before.heapUsed), heapTotal: mb(before.heapTotal), external: mb(before.external),
    jscHeapSize: mb(h.heapSize), jscHeapCapacity: mb(h.heapCapacity), jscExtraMemory: mb(h.extraMemorySize), objects: h.objectCount,
    protectedObjects: h.protectedObjectCount, afterGc: { rss: mb(after.rss), heapUsed: mb(after.heapUsed) }, topTypes: top,
  };
  process.stderr.write(`${JSON.stringify(line)}\n`);
});
