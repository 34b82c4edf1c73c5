// Preloaded into the floor pair (BENCH_BUN_FLAGS="--preload ...") to measure what the sidecar's code costs a Bun
// process in memory by being loaded: every module sidecar/main.ts imports, loaded (not run), read from its own imports.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

const MAIN = resolve(import.meta.dir, "../../sidecar/main.ts");
// Value imports only ("import type" lines load nothing); relative paths are resolved from sidecar/, packages as they are.
// Imported one by one, not by a static `import * as m from ...` list: Bun drops a TypeScript import whose binding is
// never used, so such a list loads almost nothing (a bare Bun 29 MB idle with it, 40 MB with this).
const specifiers = [...readFileSync(MAIN, "utf8").matchAll(/^import (?!type )[^;]*? from "([^"]+)";$/gm)].map((m) => m[1]!);
for (const s of specifiers) await import(s.startsWith(".") ? resolve(MAIN, "..", s) : s);
console.error(`sidecar graph preloaded: ${specifiers.length} imports of sidecar/main.ts`);
