// Preloaded into the floor pair (BENCH_BUN_FLAGS="--preload ...") to measure what the sidecar's code costs a Bun
// process in memory by being loaded: every module sidecar/main.ts imports, loaded (not run), read from its own imports.
import { resolve } from "node:path";
import { valueImports } from "../../tools/memory-stats.ts";

// Imported one by one, not by a static `import * as m from ...` list: Bun drops a TypeScript import whose binding is
// never used, so such a list loads almost nothing (a bare Bun 29 MB idle with it, 40 MB with this).
const imports = valueImports(resolve(import.meta.dir, "../../sidecar/main.ts"));
for (const s of imports) await import(s);
console.error(`sidecar graph preloaded: ${imports.length} imports of sidecar/main.ts`);
