// A/B in the same interleaved rounds: mesh scenarios between this checkout and another (`--baseline DIR`), or one
// scenario against another (`--versus`): whole runs drift by ±20 % here, so separate runs can't show a 5 % change.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { SCENARIOS, type ScenarioName } from "./lib/args.ts";
import { detectPinning, probe, startEnv } from "./lib/harness.ts";
import { cpuMs, peakRssKb } from "./lib/procstat.ts";
import { ProcessSet } from "./lib/proc.ts";
import { SETUPS, type Target } from "./lib/scenarios.ts";
import { median } from "./lib/stats.ts";
import { runWrk } from "./lib/wrk.ts";
import { exitUsage } from "../member/cli.ts";
import { parseToolArgs } from "./lib/tool-args.ts";

const USAGE = `usage: bun run bench/ab.ts (--baseline DIR | --versus SCENARIO) [--only sidecar-pair,gateway] [--rounds 8] [--seconds 3] [--restart-every 2] [--warmup 3] [--env K=V ...]
  runs each scenario from DIR (another checkout, e.g. a git worktree of the commit before) and from this checkout,
  alternating A and B every round under the same wrk load (c=64), and prints CPU-ms per 1000 requests and req/s;
  --versus SCENARIO makes A that scenario of this checkout and B each --only scenario (a bench target's two rows,
  e.g. --versus sidecar-pair-dark --only sidecar-pair), peers allowed: the per-start offsets the bench's single
  start of each row can't average out (up to ±6 % on the pair) are averaged over the restarts here;
  every --restart-every rounds (default 2) both sides' processes are started afresh, in alternating order, and
  each side is loaded for --warmup seconds (default 3) before its first measured round;
  --env K=V (repeatable) sets a variable for B's proxy processes only: with --baseline . it compares a runtime knob
  (e.g. --env MIMALLOC_PURGE_DELAY=-1) on the same code
  -h, --help | --version   print this help / the vm-mesh and runtime versions, exit 0
example:
  git worktree add /tmp/before HEAD~1 && ln -s "$PWD/node_modules" /tmp/before/ && bun run bench/ab.ts --baseline /tmp/before
  bun run bench/ab.ts --baseline . --env MIMALLOC_PURGE_DELAY=-1
  bun run bench/ab.ts --versus sidecar-hop-10-routes --only sidecar-hop-10k-routes --rounds 12
exit codes: 0 ok, 1 the run failed or wrk is missing, 2 usage error`;
const OPTIONS = { baseline: { type: "string" }, versus: { type: "string" }, only: { type: "string" }, rounds: { type: "string" }, seconds: { type: "string" }, "restart-every": { type: "string" }, warmup: { type: "string" }, env: { type: "string", multiple: true }, help: { type: "boolean", short: "h" }, version: { type: "boolean" } } as const;
const values = parseToolArgs("ab", OPTIONS, USAGE, (v) => {
  if ((v.baseline === undefined) === (v.versus === undefined)) throw new Error("one of --baseline DIR or --versus SCENARIO is required");
});
const names = (values.only ?? "sidecar-pair").split(",") as ScenarioName[];
const versus = values.versus as ScenarioName | undefined;
// Another checkout runs only our own scenarios; against a row of this one, peers and floors too (not `direct`: no
// proxy, no CPU to compare).
const excluded = versus === undefined ? ["direct", "bun-bare", "nginx", "consul-pair"] : ["direct"];
const unknown = [...names, ...(versus === undefined ? [] : [versus])].filter((n) => !SCENARIOS.includes(n) || excluded.includes(n));
if (unknown.length > 0) exitUsage("ab", new Error(`not a scenario ab.ts can run here: ${unknown.join(", ")}`), USAGE);
if (!Bun.which("wrk")) {
  console.error("wrk not found: install it with 'apt-get install wrk'");
  process.exit(1);
}
const rounds = Number(values.rounds ?? 8);
const seconds = Number(values.seconds ?? 3);
const restartEvery = Number(values["restart-every"] ?? 2);
if (!Number.isInteger(restartEvery) || restartEvery < 1) exitUsage("ab", new Error("--restart-every needs a positive integer"), USAGE);
// Seconds of load on each side after a start, before its first measured round: with 1 s the pair's first round after
// a start read up to twice the CPU per request of the next (still tiering up), which both sides then share as noise.
const warmup = Number(values.warmup ?? 3);
if (!(warmup >= 1)) exitUsage("ab", new Error("--warmup needs a number of seconds, at least 1"), USAGE);
const baseline = versus === undefined ? resolve(values.baseline!) : undefined;
const envB: Record<string, string> = {};
for (const kv of values.env ?? []) {
  const at = kv.indexOf("=");
  if (at < 1) exitUsage("ab", new Error(`--env needs K=V, got ${JSON.stringify(kv)}`), USAGE);
  envB[kv.slice(0, at)] = kv.slice(at + 1);
}

const pin = detectPinning();
console.log(pin.note);
const tmp = mkdtempSync(join(tmpdir(), "mesh-ab-"));
const set = new ProcessSet(tmp);
/** One process set per side and scenario (their logs are named by process). */
const sets: ProcessSet[] = [set];
const stopAll = (): Promise<unknown> => Promise.all(sets.map((s) => s.stopAll()));
let code = 0;
process.on("SIGINT", () => void stopAll().then(() => process.exit(130)));

type Side = { label: "A" | "B"; repo: string; name: ScenarioName; t: Target | undefined; set: ProcessSet | undefined; cpu: number[]; rps: number[]; rss: number[] };
/** One comparison: B's scenario (this checkout) against A's (the baseline's same scenario, or the --versus one). */
type Comparison = { readonly title: string; readonly a: Side; readonly b: Side };

async function measure(s: Side): Promise<void> {
  const t = s.t!;
  const pids = [...t.proxies.values()].map((m) => m.pid);
  const before = pids.reduce((a, p) => a + cpuMs(p), 0);
  const r = await runWrk({ url: t.url, host: t.host, connections: 64, seconds, pin: pin.pinLoad });
  const after = pids.reduce((a, p) => a + cpuMs(p), 0);
  if (r.non2xx > 0 || r.socketErrors > 0 || r.requests === 0) throw new Error(`${s.label} ${s.name}: ${r.non2xx} non-2xx, ${r.socketErrors} socket errors`);
  s.cpu.push(((after - before) / r.requests) * 1000);
  s.rps.push(r.rps);
  // The largest proxy's peak since its start (sides restart every few rounds, so this is that start's peak so far).
  s.rss.push(Math.max(...pids.map(peakRssKb)) / 1024);
}

/**
 * Starts every side, A then B on even starts and B then A on odd ones. Why fresh processes every few rounds: each
 * start of a side carries an offset of its own that lasts as long as its processes (A/A runs, the same code on both
 * sides, read paired medians from 0.92 to 1.06 on the pair within one start), so only many starts average it out.
 */
async function setUp(env: Awaited<ReturnType<typeof startEnv>>, comparisons: readonly Comparison[], start: number): Promise<void> {
  for (const [i, c] of comparisons.entries()) {
    for (const s of start % 2 === 0 ? [c.a, c.b] : [c.b, c.a]) {
      // A directory per side and start: configs are written by scenario name, and members watch their config file.
      const dir = join(tmp, `${i}-${s.label}-${s.name}-${start}`);
      mkdirSync(dir, { recursive: true });
      s.set = new ProcessSet(dir);
      sets.push(s.set);
      s.t = await SETUPS[s.name]({ ...env, repo: s.repo, tmp: dir, set: s.set, proxyEnv: s.label === "B" ? envB : undefined });
      await probe(s.name, s.t);
      await runWrk({ url: s.t.url, host: s.t.host, connections: 64, seconds: warmup, pin: pin.pinLoad });
    }
  }
}

/** Each round's B over the same round's A, so drift across rounds (the VM's neighbours) cancels out. */
const pairedOf = (a: readonly number[], b: readonly number[]): number[] => b.map((x, i) => x / a[i]!);
const spreadOf = (r: readonly number[]): string => `${median(r).toFixed(3)} (${Math.min(...r).toFixed(2)}–${Math.max(...r).toFixed(2)})`;

try {
  const env = await startEnv(set, tmp, pin);
  const side = (label: Side["label"], repo: string, name: ScenarioName): Side => ({ label, repo, name, t: undefined, set: undefined, cpu: [], rps: [], rss: [] });
  const comparisons: Comparison[] = names.map((name) =>
    versus === undefined
      ? { title: name, a: side("A", baseline!, name), b: side("B", env.repo, name) }
      : { title: `${name} vs ${versus}`, a: side("A", env.repo, versus), b: side("B", env.repo, name) },
  );
  const sides = comparisons.flatMap((c) => [c.a, c.b]);
  for (let round = 1; round <= rounds; round++) {
    if ((round - 1) % restartEvery === 0) {
      await Promise.all(sides.map((s) => s.set?.stopAll()));
      await setUp(env, comparisons, (round - 1) / restartEvery);
    }
    // Alternate which side goes first, so a drift within a round favours neither.
    const order = round % 2 === 1 ? sides : [...sides].reverse();
    for (const s of order) await measure(s);
    console.log(`round ${round}/${rounds}: ` + sides.map((s) => `${s.name} ${s.label} ${s.cpu.at(-1)!.toFixed(1)} ms/1k ${s.rps.at(-1)!.toFixed(0)} req/s`).join(", "));
  }
  const w = Math.max(14, ...sides.map((s) => s.name.length + 4));
  console.log(`\n${"side".padEnd(w)} CPU-ms/1k median (min)   req/s median   B/A CPU   B/A req/s   B/A CPU paired (range)   B/A req/s paired (range)   peak RSS MB median`);
  for (const { title, a, b } of comparisons) {
    console.log(title);
    for (const s of [a, b]) {
      const ratios = s === b
        ? `${(median(b.cpu) / median(a.cpu)).toFixed(3)}     ${(median(b.rps) / median(a.rps)).toFixed(3)}       ${spreadOf(pairedOf(a.cpu, b.cpu)).padEnd(24)} ${spreadOf(pairedOf(a.rps, b.rps)).padEnd(26)}`
        : "".padEnd(88);
      console.log(`${`${s.label} ${s.name}`.padEnd(w)} ${median(s.cpu).toFixed(1).padStart(8)} (${Math.min(...s.cpu).toFixed(1)})${"".padEnd(8)} ${median(s.rps).toFixed(0).padStart(8)}       ${ratios} ${median(s.rss).toFixed(1)}`);
    }
  }
} catch (e) {
  console.error(e);
  code = 1;
} finally {
  await stopAll();
  if (code === 0) rmSync(tmp, { recursive: true, force: true });
  else console.error(`process logs kept in ${tmp}`);
}
process.exit(code);
