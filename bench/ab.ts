// A/B in the same interleaved rounds: mesh scenarios between this checkout and another (`--baseline DIR`), or one
// scenario against another (`--versus`): whole runs drift by ±20 % here, so separate runs can't show a 5 % change.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { SCENARIOS, type ScenarioName } from "./lib/args.ts";
import { detectPinning, startEnv } from "./lib/harness.ts";
import { runPaired, side, sidesOf, type Comparison } from "./lib/paired.ts";
import { latencyTable, loadTable } from "./lib/paired-table.ts";
import { ProcessSet } from "./lib/proc.ts";
import { findWrk } from "./lib/wrk.ts";
import { exitUsage } from "../member/cli.ts";
import { parseToolArgs } from "./lib/tool-args.ts";

const USAGE = `usage: bun run bench/ab.ts (--baseline DIR | --versus SCENARIO) [--only sidecar-pair,gateway] [--rounds 8] [--seconds 3] [--restart-every 2] [--warmup 3] [--env K=V ...] [--c1]
  runs each scenario from DIR (another checkout, e.g. a git worktree of the commit before) and from this checkout,
  alternating A and B every round under the same wrk load (c=64), and prints CPU-ms per 1000 requests and req/s;
  --versus SCENARIO makes A that scenario of this checkout and B each --only scenario (a bench target's two rows,
  e.g. --versus sidecar-pair-dark --only sidecar-pair), peers allowed: the per-start offsets the bench's single
  start of each row can't average out (up to ±6 % on the pair) are averaged over the restarts here;
  every --restart-every rounds (default 2) both sides' processes are started afresh, in alternating order, and
  each side is loaded for --warmup seconds (default 3) before its first measured round;
  --env K=V (repeatable) sets a variable for B's proxy processes only: with --baseline . it compares a runtime knob
  (e.g. --env MIMALLOC_PURGE_DELAY=-1) on the same code;
  --c1 measures c=1 latency instead of c=64 load: each round runs wrk with one connection for --seconds on the
  proxies' CPU against both sides and direct (started with them), and prints what each side adds over direct
  and B's added latency over A's (the bench's c=1 target, settled by hand: --versus consul-pair --only sidecar-pair --c1)
  -h, --help | --version   print this help / the vm-mesh and runtime versions, exit 0
example:
  git worktree add /tmp/before HEAD~1 && ln -s "$PWD/node_modules" /tmp/before/ && bun run bench/ab.ts --baseline /tmp/before
  bun run bench/ab.ts --baseline . --env MIMALLOC_PURGE_DELAY=-1
  bun run bench/ab.ts --versus sidecar-hop-10-routes --only sidecar-hop-10k-routes --rounds 12
exit codes: 0 ok, 1 the run failed or wrk is missing, 2 usage error`;
const OPTIONS = { baseline: { type: "string" }, versus: { type: "string" }, only: { type: "string" }, rounds: { type: "string" }, seconds: { type: "string" }, "restart-every": { type: "string" }, warmup: { type: "string" }, env: { type: "string", multiple: true }, c1: { type: "boolean" }, help: { type: "boolean", short: "h" }, version: { type: "boolean" } } as const;
const values = parseToolArgs("ab", OPTIONS, USAGE, (v) => {
  if ((v.baseline === undefined) === (v.versus === undefined)) throw new Error("one of --baseline DIR or --versus SCENARIO is required");
});
const names = (values.only ?? "sidecar-pair").split(",") as ScenarioName[];
const versus = values.versus as ScenarioName | undefined;
const c1 = values.c1 === true;
// Another checkout runs only our own scenarios; against a row of this one, peers and floors too (not `direct`: no
// proxy, no CPU to compare).
const excluded = versus === undefined ? ["direct", "bun-bare", "nginx", "consul-pair"] : ["direct"];
const unknown = [...names, ...(versus === undefined ? [] : [versus])].filter((n) => !SCENARIOS.includes(n) || excluded.includes(n));
if (unknown.length > 0) exitUsage("ab", new Error(`not a scenario ab.ts can run here: ${unknown.join(", ")}`), USAGE);
const wrkBin = await findWrk(join(import.meta.dir, ".."));
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
/** One process set per side and start (their logs are named by process). */
const sets: ProcessSet[] = [set];
const stopAll = (): Promise<unknown> => Promise.all(sets.map((s) => s.stopAll()));
let code = 0;
process.on("SIGINT", () => void stopAll().then(() => process.exit(130)));

try {
  const env = await startEnv(set, tmp, pin);
  const comparisons: Comparison[] = names.map((name) =>
    versus === undefined
      ? { title: name, a: side("A", baseline!, name), b: side("B", env.repo, name, envB) }
      : { title: `${name} vs ${versus}`, a: side("A", env.repo, versus), b: side("B", env.repo, name, envB) },
  );
  // With --c1 each comparison measures `direct` in the same rounds, the base its latency is added over.
  if (c1) for (const [i, c] of comparisons.entries()) comparisons[i] = { ...c, base: side("base", env.repo, "direct") };
  const sides = comparisons.flatMap(sidesOf);
  const figure = (s: (typeof sides)[number]): string => (c1 ? `${s.c1.at(-1)!.toFixed(0)} µs` : `${s.cpu.at(-1)!.toFixed(1)} ms/1k ${s.rps.at(-1)!.toFixed(0)} req/s`);
  await runPaired(env, comparisons, {
    rounds, seconds, restartEvery, warmup, pinLoad: pin.pinLoad, wrk: wrkBin, dir: tmp, track: (s) => sets.push(s), transient: set.transient,
    ...(c1 ? { c1: { pin: pin.pinProxy } } : {}),
    onRound: (round) => console.log(`round ${round}/${rounds}: ` + sides.map((s) => `${s.name} ${s.label} ${figure(s)}`).join(", ")),
  });
  console.log(`\n${c1 ? latencyTable(comparisons) : loadTable(comparisons)}`);
} catch (e) {
  console.error(e);
  code = 1;
} finally {
  await stopAll();
  if (code === 0) rmSync(tmp, { recursive: true, force: true });
  else console.error(`process logs kept in ${tmp}`);
}
process.exit(code);
