// Reads every import of the repo's TypeScript sources and checks them against the layer rules of
// docs/architecture.md: arrows point one way (assemblies → member → runtime adapters → shared), no folder cycles.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";

export type Edge = { from: string; to: string };

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)|(?:^|\n)\s*import\s*["']([^"']+)["']/g;
const SKIP = new Set(["node_modules", ".git", ".cache", ".mesh", "results"]);

function walk(dir: string, out: string[]): void {
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(ts|mjs)$/.test(name)) out.push(p);
  }
}

/** Every import in the repo as repo-relative paths; bare specifiers ("node:fs", "hono") stay as they are. */
export function collectEdges(root: string): Edge[] {
  const files: string[] = [];
  walk(root, files);
  const edges: Edge[] = [];
  for (const file of files) {
    const src = readFileSync(file, "utf8");
    const from = relative(root, file);
    for (const m of src.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      const to = spec.startsWith(".") ? normalize(join(dirname(from), spec)) : spec;
      edges.push({ from, to });
    }
  }
  return edges;
}

const isTest = (f: string): boolean => /\.test\.ts$/.test(f) || f.startsWith("test/") || f.startsWith("bench/") || f.startsWith("deploy/");
const RUNTIME_MODULE = /^(node:|bun$|bun:|deno$|npm:)/;
const ASSEMBLIES = ["gateway", "sidecar", "ca", "cli"];

/** "shared/config", "shared/(root)", "runtime/bun", "member", "gateway", ... */
export function unitOf(file: string): string {
  const parts = file.split("/");
  if (parts[0] === "shared" || parts[0] === "runtime") return parts.length > 2 ? `${parts[0]}/${parts[1]}` : `${parts[0]}/(root)`;
  return parts[0]!;
}

/** Violations of the one-way arrows, as readable lines (empty = all good). Tests, bench and deploy tools are exempt. */
export function checkLayers(edges: readonly Edge[]): string[] {
  const bad: string[] = [];
  for (const { from, to } of edges) {
    if (isTest(from)) continue;
    const a = unitOf(from);
    const local = !RUNTIME_MODULE.test(to) && (to.includes("/") && !to.startsWith("@")) ? unitOf(to) : undefined;
    const say = (why: string) => bad.push(`${from} → ${to}: ${why}`);
    if (a.startsWith("shared/")) {
      if (RUNTIME_MODULE.test(to)) say("shared/ is runtime-neutral (no node:, bun or deno modules)");
      else if (local !== undefined && !local.startsWith("shared/")) say("shared/ imports nothing outside shared/");
    } else if (a.startsWith("runtime/")) {
      if (local !== undefined && !local.startsWith("shared/") && !local.startsWith("runtime/")) say("runtime adapters import only shared/ and runtime/");
      if (local !== undefined && local.startsWith("runtime/") && a !== local && !["runtime/(root)", "runtime/node"].includes(local)) say("one runtime adapter never imports another");
    } else if (a === "member" || a === "console") {
      // console/ (the gateway's web console) sits beside member/: it may use member/, member/ never uses it.
      if (local !== undefined && ASSEMBLIES.includes(local)) say(`${a}/ never imports an assembly`);
      if (local === "runtime/bun" || local === "runtime/deno") say(`${a}/ codes against runtime/ports.ts; the assembly picks the adapter`);
      if (a === "member" && local === "console") say("member/ never imports console/ (the gateway wires it in)");
    } else if (ASSEMBLIES.includes(a)) {
      if (local !== undefined && ASSEMBLIES.includes(local) && local !== a) say("assemblies never import each other");
      if (a === "cli" && local !== undefined && local.startsWith("runtime/")) say("cli/ imports no daemon runtime");
    }
  }
  return bad;
}

/** Cycles between folders of shared/ (non-test files), each as "a → b → ... → a". */
export function sharedCycles(edges: readonly Edge[]): string[] {
  const graph = new Map<string, Set<string>>();
  for (const { from, to } of edges) {
    if (isTest(from) || !from.startsWith("shared/") || !to.startsWith("shared/")) continue;
    const a = unitOf(from);
    const b = unitOf(to);
    if (a !== b) (graph.get(a) ?? graph.set(a, new Set()).get(a)!).add(b);
  }
  const cycles: string[] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (n: string): void => {
    state.set(n, "open");
    stack.push(n);
    for (const m of graph.get(n) ?? []) {
      if (state.get(m) === "open") cycles.push([...stack.slice(stack.indexOf(m)), m].join(" → "));
      else if (state.get(m) === undefined) visit(m);
    }
    stack.pop();
    state.set(n, "done");
  };
  for (const n of graph.keys()) if (!state.has(n)) visit(n);
  return cycles;
}
