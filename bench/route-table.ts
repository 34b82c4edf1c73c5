// `bun run bench/route-table.ts`: what the route table costs as the route count grows (10, 1,000, 10,000 prefix routes
// on one host, the shape of large edge configs): build time, heap held, ns per match; then a whole-config compile.
import { buildRouteTable, type RouteEntry, type RouteTable } from "../shared/routing/route-table.ts";
import { compileSnapshot } from "../shared/build/compile.ts";
import type { MeshConfig, RouteConfig } from "../shared/config/schema.ts";
import type { RequestHead } from "../shared/types.ts";

const SIZES = [10, 1_000, 10_000];
const RUNS = 5; // medians of this many
const HOST = "upstream";
/** Each timed match run lasts about this long; the iteration count is calibrated per case. */
const TARGET_MS = 25;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const svcPath = (i: number) => `/svc-${String(i).padStart(5, "0")}/`;

function heapMB(): number {
  Bun.gc(true);
  return process.memoryUsage().heapUsed / 2 ** 20;
}

function head(path: string): RequestHead {
  return { method: "GET", host: HOST, path, headers: new Headers(), query: new URLSearchParams() };
}

function entries(n: number): RouteEntry<number>[] {
  return Array.from({ length: n }, (_, i) => ({ name: `r${i}`, match: { host: [HOST], path: { prefix: svcPath(i) } }, value: i }));
}

/** Median ns per match over RUNS runs; the hit's value is summed so the loop cannot be optimised away. */
function nsPerMatch(table: RouteTable<number>, h: RequestHead, expected: number | undefined): number {
  if (table.match(h)?.value !== expected) throw new Error(`${h.path}: expected route ${expected}, got ${table.match(h)?.value}`);
  let sink = 0;
  let iterations = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < iterations; i++) sink += table.match(h)?.value ?? -1;
    // Doubling until one batch lasts TARGET_MS also warms the JIT up (about 2 x TARGET_MS) before anything counts.
    if (performance.now() - t0 >= TARGET_MS) break;
    iterations *= 2;
  }
  const runs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < iterations; i++) sink += table.match(h)?.value ?? -1;
    runs.push(((performance.now() - t0) * 1e6) / iterations);
  }
  if (sink === Number.MIN_SAFE_INTEGER) console.log(sink);
  return median(runs);
}

/**
 * Many hosts beside shared routes: `hosts` hosts with 10 prefix routes each, plus `shared` any-host prefix routes
 * (what every host falls back to). Heap and ns per match on a host's own route and on a shared one.
 */
function hostsRow(hosts: number, shared: number): { routes: number; buildMs: number; heapMB: number; own: number; fallback: number } {
  const list: RouteEntry<number>[] = [];
  for (let h = 0; h < hosts; h++) {
    for (let i = 0; i < 10; i++) list.push({ name: `h${h}-${i}`, match: { host: [`h${h}.example.com`], path: { prefix: svcPath(i) } }, value: list.length });
  }
  const firstShared = list.length;
  for (let i = 0; i < shared; i++) list.push({ name: `s${i}`, match: { path: { prefix: `/shared-${String(i).padStart(5, "0")}/` } }, value: list.length });
  const before = heapMB();
  const t0 = performance.now();
  const table = buildRouteTable(list);
  const buildMs = performance.now() - t0;
  const grown = heapMB() - before;
  const at = (host: string, path: string): RequestHead => ({ ...head(path), host });
  const mid = Math.floor(shared / 2);
  return {
    routes: list.length,
    buildMs,
    heapMB: grown,
    own: nsPerMatch(table, at(`h${hosts - 1}.example.com`, `${svcPath(9)}x`), firstShared - 1),
    fallback: nsPerMatch(table, at(`h${hosts - 1}.example.com`, `/shared-${String(mid).padStart(5, "0")}/x`), firstShared + mid),
  };
}

type Row = { routes: number; buildMs: number; heapMB: number; first: number; middle: number; last: number; miss: number };

function tableRow(n: number): Row {
  const list = entries(n);
  const builds: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    buildRouteTable(list);
    builds.push(performance.now() - t0);
  }
  const before = heapMB();
  const table = buildRouteTable(list);
  const grown = heapMB() - before;
  const mid = Math.floor(n / 2);
  return {
    routes: n,
    buildMs: median(builds),
    heapMB: grown,
    first: nsPerMatch(table, head(`${svcPath(0)}x`), 0),
    middle: nsPerMatch(table, head(`${svcPath(mid)}x`), mid),
    last: nsPerMatch(table, head(`${svcPath(n - 1)}x`), n - 1),
    miss: nsPerMatch(table, head("/nowhere/x"), undefined),
  };
}

function meshConfig(n: number): MeshConfig {
  const routes: RouteConfig[] = Array.from({ length: n }, (_, i) => ({
    name: `r${i}`,
    match: { host: [HOST], path: { prefix: svcPath(i) } },
    action: { destinations: [{ service: HOST }] },
  }));
  return { services: { [HOST]: { mtls: "disable", instances: [{ id: "u1", address: "127.0.0.1", port: 1 }] } }, routes };
}

/** compileSnapshot of a config with n routes: median ms, and the heap the snapshot holds (config excluded). */
function compileRow(n: number): { routes: number; compileMs: number; heapMB: number; routeTableMB: number } {
  const cfg = meshConfig(n);
  // One forwarder for every route, as member/forwarders.ts hands out: a new function per call would be the bench's cost.
  const forward = async () => new Response("ok");
  const compile = () => compileSnapshot(cfg, { version: 1, source: "bench", forwarder: () => forward });
  const times: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    compile();
    times.push(performance.now() - t0);
  }
  const before = heapMB();
  const snap = compile();
  const grown = heapMB() - before;
  // The same routes through buildRouteTable alone (trivial values): the part of the snapshot that is the table.
  const list = entries(n);
  const beforeTable = heapMB();
  const table = buildRouteTable(list);
  const tableGrown = heapMB() - beforeTable;
  if (snap.meshRoutes.match(head(`${svcPath(n - 1)}x`))?.name !== `r${n - 1}` || table.match(head("/")) !== undefined) throw new Error("compiled table misroutes");
  return { routes: n, compileMs: median(times), heapMB: grown, routeTableMB: tableGrown };
}

const f = (x: number, digits = 0) => x.toFixed(digits);
console.log(`route table, ${RUNS} runs each (median); ns per match of a hit on the first / middle / last route and a miss`);
console.log("| routes | build ms | heap MB | first ns | middle ns | last ns | miss ns |");
console.log("|---:|---:|---:|---:|---:|---:|---:|");
for (const n of SIZES) {
  const r = tableRow(n);
  console.log(`| ${r.routes} | ${f(r.buildMs, 2)} | ${f(r.heapMB, 2)} | ${f(r.first)} | ${f(r.middle)} | ${f(r.last)} | ${f(r.miss)} |`);
}
console.log("\n1,000 hosts x 10 own routes + 1,000 any-host routes (one build); ns per match on a host's own route and on a shared one");
console.log("| routes | build ms | heap MB | own ns | shared ns |");
console.log("|---:|---:|---:|---:|---:|");
{
  const r = hostsRow(1_000, 1_000);
  console.log(`| ${r.routes} | ${f(r.buildMs, 1)} | ${f(r.heapMB, 2)} | ${f(r.own)} | ${f(r.fallback)} |`);
}
console.log("\ncompileSnapshot (one service, n prefix routes to it); heap MB = what the snapshot holds, table MB = its route table alone");
console.log("| routes | compile ms | heap MB | table MB |");
console.log("|---:|---:|---:|---:|");
for (const n of SIZES) {
  const r = compileRow(n);
  console.log(`| ${r.routes} | ${f(r.compileMs, 1)} | ${f(r.heapMB, 2)} | ${f(r.routeTableMB, 2)} |`);
}
