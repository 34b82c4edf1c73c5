// What one package costs inside the sidecar's whole module graph (not alone, as memory-attribution.ts measures):
// the graph loaded with the named packages replaced by stubs, settled, its RSS split into anon and file pages.
// Usage: bun run tools/graph-stub.ts [package ...]   (e.g. yaml pino; none: the whole graph as it is)
import { plugin } from "bun";
import { resolve } from "node:path";
import { procMemoryMb } from "./memory-stats.ts";

const stubbed = process.argv.slice(2);
const ROOT = resolve(import.meta.dir, "..");
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
// What every stubbed name is: a function that returns itself from every call and every property (`then` excepted,
// so it is never taken for a promise), so top-level code such as `v.object({...}).entries.name` runs on.
const STUB = "const stub = new Proxy(function () {}, { get: (_t, k) => (k === 'then' ? undefined : stub), apply: () => stub });";

/** The package's export names, read in a child process so that this one never loads it. */
function exportNames(pkg: string): string[] {
  const code = `console.log(JSON.stringify(Object.keys(await import(${JSON.stringify(pkg)}))))`;
  const r = Bun.spawnSync([process.execPath, "-e", code], { cwd: ROOT, stdout: "pipe", stderr: "inherit" });
  if (r.exitCode !== 0) throw new Error(`could not list the exports of ${pkg}`);
  return JSON.parse(r.stdout.toString()) as string[];
}

if (stubbed.length > 0) {
  // By the package's resolved entry file: a runtime plugin's onResolve is not asked for imports of node_modules
  // packages (Bun 1.4.4), its onLoad is. The stub exports the package's own names (an ES module's named imports are
  // checked when it links), each bound to STUB: the graph's top-level code runs, nothing of the package loads.
  const stubs = stubbed.map((pkg) => {
    // `export { stub as void }`: an export name may be a reserved word (valibot exports `void`), a binding may not.
    const names = exportNames(pkg).filter((n) => n !== "default" && IDENTIFIER.test(n));
    const contents = `${STUB}\nexport { ${[...names, "default"].map((n) => `stub as ${n}`).join(", ")} };`;
    return { entry: Bun.resolveSync(pkg, ROOT), contents };
  });
  plugin({
    name: "stub",
    setup(b) {
      for (const { entry, contents } of stubs) {
        b.onLoad({ filter: new RegExp(`^${entry.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`) }, () => ({ contents, loader: "js" }));
      }
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
