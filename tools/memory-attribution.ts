// What each module costs a Bun process just by being loaded: every case imports its modules in a fresh process,
// settles (two full GCs), and reports RSS and JSC heap against a process that imported nothing. Medians of N runs.
// Usage: bun run tools/memory-attribution.ts [--runs 3] [--only NAME,NAME]
import { resolve } from "node:path";
import { median, valueImports } from "./memory-stats.ts";

const ROOT = resolve(import.meta.dir, "..");
const file = (rel: string): string => resolve(ROOT, rel);

const staticImports = (rel: string): string[] => valueImports(file(rel));

/** Name → what it imports, in order (the reflect polyfill first wherever @peculiar/x509 follows). */
const CASES: Array<[string, string[]]> = [
  ["(bun, nothing imported)", []],
  ["reflect-metadata", ["reflect-metadata"]],
  ["@peculiar/x509 (+ reflect-metadata)", ["reflect-metadata", "@peculiar/x509"]],
  ["pino", ["pino"]],
  ["member/logger.ts (pino, one logger made)", [file("member/logger.ts")]],
  ["hono", ["hono"]],
  ["valibot", ["valibot"]],
  ["shared/config/schema.ts (valibot schema)", [file("shared/config/schema.ts")]],
  ["yaml", ["yaml"]],
  ["consul (npm client)", ["consul"]],
  ["prom-client (whole package)", ["prom-client"]],
  ["prom-client/lib/registry.js (what member/metrics loads)", ["prom-client/lib/registry.js"]],
  ["@opentelemetry/sdk-trace-base + resources", ["@opentelemetry/sdk-trace-base", "@opentelemetry/resources"]],
  ["node:http + node:https", ["node:http", "node:https"]],
  ["node:tls", ["node:tls"]],
  ["shared/pki/svid.ts (per-connection SVID check)", [file("shared/pki/svid.ts")]],
  ["shared/pki/workload.ts (CSR, leaf parsing)", [file("shared/pki/workload.ts")]],
  ["member/credentials.ts", [file("member/credentials.ts")]],
  ["member/consul/* (discovery feed + KV provider)", [file("member/consul/discovery-feed.ts"), file("member/consul/kv-provider.ts")]],
  ["member/config-source.ts", [file("member/config-source.ts")]],
  ["member/metrics/member-metrics.ts", [file("member/metrics/member-metrics.ts")]],
  ["runtime/bun/ports.ts (all Bun adapters)", [file("runtime/bun/ports.ts")]],
  ["member/run.ts (the whole member runtime)", [file("member/run.ts")]],
  // The entry points run on import; their static imports are everything loaded before main() starts.
  ["sidecar's static import graph (read from sidecar/main.ts)", staticImports("sidecar/main.ts")],
  ["gateway's static import graph (read from gateway/main.ts)", staticImports("gateway/main.ts")],
];

const CHILD = (specs: string[]): string => `
${specs.map((s) => `await import(${JSON.stringify(s)});`).join("\n")}
${specs.some((s) => s.endsWith("member/logger.ts")) ? `(await import(${JSON.stringify(file("member/logger.ts"))})).createLogger({ service: "probe", level: "silent" });` : ""}
Bun.gc(true); await Bun.sleep(100); Bun.gc(true);
const h = (await import("bun:jsc")).heapStats();
console.log(JSON.stringify({ rss: process.memoryUsage().rss, heap: h.heapSize, objects: h.objectCount }));
`;

type Sample = { rss: number; heap: number; objects: number };

function runOnce(specs: string[]): Sample {
  const p = Bun.spawnSync([process.execPath, "-e", CHILD(specs)], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`child failed for ${specs.join(", ")}: ${p.stderr.toString()}`);
  return JSON.parse(p.stdout.toString().trim().split("\n").pop()!) as Sample;
}

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf("--runs") + 1] ?? 3) || 3;
const only = args.includes("--only") ? args[args.indexOf("--only") + 1]!.split(",") : undefined;
const mb = (n: number): string => (n / 1048576).toFixed(1);

const measure = (specs: string[]): Sample => {
  const xs = Array.from({ length: runs }, () => runOnce(specs));
  return { rss: median(xs.map((x) => x.rss)), heap: median(xs.map((x) => x.heap)), objects: median(xs.map((x) => x.objects)) };
};
const base = measure([]);
console.log(`each case in a fresh process, after two full GCs; medians of ${runs}; baseline RSS ${mb(base.rss)} MB, heap ${mb(base.heap)} MB\n`);
console.log("| module(s) | RSS delta MB | JSC heap delta MB | objects delta |");
console.log("|---|---:|---:|---:|");
for (const [name, specs] of CASES) {
  if (specs.length === 0 || (only !== undefined && !only.some((o) => name.includes(o)))) continue;
  const s = measure(specs);
  console.log(`| ${name} | ${mb(s.rss - base.rss)} | ${mb(s.heap - base.heap)} | ${s.objects - base.objects} |`);
}
