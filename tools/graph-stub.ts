// What one package costs inside the sidecar's whole module graph (not alone, as memory-attribution.ts measures):
// the graph loaded with the named packages replaced by empty modules, settled, its RSS split into anon and file pages.
// Usage: bun run tools/graph-stub.ts [package ...]   (e.g. yaml pino; none: the whole graph as it is)
import { plugin } from "bun";
import { resolve } from "node:path";
import { procMemoryMb } from "./memory-stats.ts";

const stubbed = process.argv.slice(2);
if (stubbed.length > 0) {
  // By the package's resolved entry file: a runtime plugin's onResolve is not asked for imports of node_modules
  // packages (Bun 1.4.4), its onLoad is.
  const entries = stubbed.map((s) => Bun.resolveSync(s, resolve(import.meta.dir, "..")));
  const filter = new RegExp(`^(${entries.map((e) => e.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")).join("|")})$`);
  // Any export name reads as a function returning {}: the graph's top-level code runs, nothing of the package loads.
  const stub = (): object => ({});
  const exports = new Proxy({ default: stub } as Record<string, unknown>, { get: (t, k) => (k === "then" ? undefined : typeof k === "string" && k in t ? t[k] : stub) });
  plugin({
    name: "stub",
    setup(b) {
      b.onLoad({ filter }, () => ({ exports, loader: "object" }));
    },
  });
}
await import(resolve(import.meta.dir, "../bench/floor/sidecar-graph-imports.ts"));
Bun.gc(true);
Bun.gc(true);
await Bun.sleep(300);
const m = procMemoryMb(process.pid);
const modules = Object.keys(require.cache).length;
console.log(`sidecar graph${stubbed.length > 0 ? ` without ${stubbed.join(", ")}` : ""}: ${modules} modules, RSS ${m.rss.toFixed(1)} MB (anon ${m.anon.toFixed(1)}, file ${(m.rss - m.anon).toFixed(1)})`);
