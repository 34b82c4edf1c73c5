// Preloaded into a process under measurement (`bun --preload tools/memory-probe.ts ...`): on SIGUSR2 it writes one
// JSON line to stderr with process.memoryUsage() and JSC's heapStats(), so a real sidecar can be inspected unchanged.
import { heapStats } from "bun:jsc";

const mb = (n: number): number => Math.round((n / 1048576) * 10) / 10;

// The JS heap's high-water marks between probes, sampled every 100 ms (as the bench samples RSS): whether a peak
// RSS under load is the JS heap growing between collections or memory outside it. memoryUsage() is cheap; heapStats()
// walks the heap, so it is not sampled.
let peak = { heapUsed: 0, heapTotal: 0, rss: 0, external: 0 };
setInterval(() => {
  const m = process.memoryUsage();
  if (m.rss > peak.rss) peak = { heapUsed: m.heapUsed, heapTotal: m.heapTotal, rss: m.rss, external: m.external };
}, 100).unref();

process.on("SIGUSR2", () => {
  const before = process.memoryUsage();
  const h = heapStats();
  // A collection first would hide what an idle process really holds; it is reported second, as what could be freed.
  Bun.gc(true);
  const after = process.memoryUsage();
  const topOf = (counts: Record<string, number>) => Object.entries(counts).sort((a, b) => b[1] - a[1]).slice(0, 12);
  const top = topOf(h.objectTypeCounts);
  // What stays: the live objects by type after the collection (what a full GC has to mark every time).
  const live = heapStats();
  const line = {
    probe: "memory",
    rss: mb(before.rss), heapUsed: mb(before.heapUsed), heapTotal: mb(before.heapTotal), external: mb(before.external),
    jscHeapSize: mb(h.heapSize), jscHeapCapacity: mb(h.heapCapacity), jscExtraMemory: mb(h.extraMemorySize), objects: h.objectCount,
    protectedObjects: h.protectedObjectCount, afterGc: { rss: mb(after.rss), heapUsed: mb(after.heapUsed), objects: live.objectCount, topTypes: topOf(live.objectTypeCounts) },
    atPeakRss: { rss: mb(peak.rss), heapUsed: mb(peak.heapUsed), heapTotal: mb(peak.heapTotal), external: mb(peak.external) },
    topTypes: top,
  };
  peak = { heapUsed: 0, heapTotal: 0, rss: 0, external: 0 };
  process.stderr.write(`${JSON.stringify(line)}\n`);
});
