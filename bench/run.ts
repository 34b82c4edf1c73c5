// The bench runner: every scenario in interleaved rounds with wrk on fresh processes, then the targets near their
// lines settled in paired rounds. Usage: bun run bench/run.ts [--quick] [--rounds N] [--settle-rounds N] [...]; see bench/README.md.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { BENCH_USAGE, BENCH_VALUE_FLAGS, parseArgs, roundOrder, type BenchOptions, type ScenarioName } from "./lib/args.ts";
import { answerHelpOrVersion, exitUsage } from "../member/cli.ts";
import { CLOCK_TICKS_PER_S, cpuMs, RssSampler } from "./lib/procstat.ts";
import { ProcessSet } from "./lib/proc.ts";
import { renderChart } from "./lib/chart.ts";
import { failedResponses, scenariosJson, summarize, type RoundResult, type ScenarioSummary } from "./lib/report.ts";
import { ScenarioSkipped } from "./lib/skip.ts";
import { renderTable } from "./lib/table.ts";
import { evaluateTargets, TARGETS } from "./lib/targets.ts";
import { settleTargets } from "./lib/settle-run.ts";
import { cpuModel, cpuTimes, detectPinning, foreignCpuPct, machineBusyPct, probe, startEnv } from "./lib/harness.ts";
import { SETUPS, type Target } from "./lib/scenarios.ts";
import { findWrk, runWrk, type WrkResult } from "./lib/wrk.ts";

const COMMITTED_RESULTS = join(import.meta.dir, "results");
const log = (msg: string): void => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);

answerHelpOrVersion(process.argv.slice(2), BENCH_USAGE, (f) => BENCH_VALUE_FLAGS.has(f));
let opts: BenchOptions;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (e) {
  exitUsage("bench", e, BENCH_USAGE);
}
const RESULTS = opts.out === undefined ? COMMITTED_RESULTS : resolve(opts.out);
const wrkBin = await findWrk(join(import.meta.dir, ".."));

const pin = detectPinning();
log(pin.note);

const tmp = mkdtempSync(join(tmpdir(), "mesh-bench-"));
const set = new ProcessSet(tmp);
/** The shared processes (upstream, CA) in `set`; each start of a scenario in a set of its own, stopped on restart. */
const scenarioSets = new Map<string, ProcessSet>();
let failed = false;
let stopping: Promise<never> | undefined;

function shutdown(code: number): Promise<never> {
  return (stopping ??= stopAndExit(code));
}
async function stopAndExit(code: number): Promise<never> {
  await Promise.all([...scenarioSets.values()].map((s) => s.stopAll()));
  await set.stopAll();
  if (!failed) rmSync(tmp, { recursive: true, force: true });
  else log(`process logs kept in ${tmp}`);
  process.exit(code);
}
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    log(`${sig}: stopping every process the bench started`);
    failed = true;
    void shutdown(130);
  });
}

async function wrk(t: Target, connections: number, seconds: number, cpu: readonly string[] = pin.pinLoad): Promise<WrkResult> {
  let pid = 0;
  try {
    return await runWrk({ bin: wrkBin, url: t.url, host: t.host, connections, seconds, pin: cpu, onSpawn: (p) => set.transient.add((pid = p)) });
  } finally {
    set.transient.delete(pid);
  }
}

async function measure(t: Target, round: number): Promise<RoundResult> {
  // c=1 runs wrk on the proxies' CPU: one request then wakes wrk and the proxy on the same core instead of paying a
  // cross-CPU wake-up each way, so the added latency is the proxy's work (the upstream stays on the load CPU).
  const c1 = await wrk(t, 1, opts.c1Seconds, pin.pinProxy);
  const pids = new Map([...t.proxies].map(([name, m]) => [name, m.pid]));
  const cpuBefore = [...pids.values()].reduce((a, p) => a + cpuMs(p), 0);
  const machineBefore = cpuTimes();
  const oursBefore = cpuMs(process.pid);
  const sampler = new RssSampler(pids);
  sampler.start();
  const c64 = await wrk(t, 64, opts.c64Seconds);
  const mem = sampler.stop();
  const foreign = foreignCpuPct(machineBefore, cpuTimes(), cpuMs(process.pid) - oursBefore, CLOCK_TICKS_PER_S);
  const cpuAfter = [...pids.values()].reduce((a, p) => a + cpuMs(p), 0);
  const cpu = pids.size > 0 && c64.requests > 0 ? ((cpuAfter - cpuBefore) / c64.requests) * 1000 : undefined;
  return { round, c1, c64, cpu_ms_per_1k: cpu, rss_mb: mem.rss, rss_anon_mb: mem.anon, foreign_cpu_pct: Math.round(foreign) };
}

async function main(): Promise<void> {
  log(`mode ${opts.quick ? "quick" : "full"}: ${opts.rounds} rounds, c64 ${opts.c64Seconds}s, c1 ${opts.c1Seconds}s, warmup ${opts.warmupSeconds}s, access log ${opts.accessLog ? "on" : "off"}; scenarios ${opts.only.join(", ")}`);
  const busy = await machineBusyPct(1000);
  if (busy > 10) log(`WARNING: the machine is ${busy.toFixed(0)}% busy before the bench starts; other load skews every number`);
  const env = await startEnv(set, tmp, pin, { accessLog: opts.accessLog });

  /** Starts `name`'s processes for `round` in a directory and process set of their own, and probes them. */
  const startScenario = async (name: ScenarioName, round: number): Promise<Target> => {
    const dir = join(tmp, `${name}-${round}`);
    mkdirSync(dir, { recursive: true });
    const own = new ProcessSet(dir);
    scenarioSets.set(name, own);
    const t = await SETUPS[name]({ ...env, tmp: dir, set: own });
    await probe(name, t);
    return t;
  };

  const targets = new Map<ScenarioName, Target>();
  const setupErrors: Record<string, string> = {};
  const skipped: Record<string, string> = {};
  for (const name of opts.only) {
    try {
      log(`starting ${name}`);
      targets.set(name, await startScenario(name, 1));
    } catch (e) {
      if (e instanceof ScenarioSkipped) {
        skipped[name] = e.message;
        log(`${name}: SKIPPED: ${e.message}`);
        continue;
      }
      failed = true;
      setupErrors[name] = (e as Error).message;
      log(`${name}: setup FAILED, skipping it\n${(e as Error).message}`);
    }
  }

  const raw = new Map<ScenarioName, RoundResult[]>([...targets.keys()].map((n) => [n, []]));
  for (let round = 1; round <= opts.rounds; round++) {
    for (const name of roundOrder([...targets.keys()], round)) {
      let t = targets.get(name)!;
      if (round > 1 && opts.restartEveryRound) {
        // One scenario at a time, just before it is measured: the others' processes don't share its CPU meanwhile.
        await scenarioSets.get(name)?.stopAll();
        try {
          t = await startScenario(name, round);
          targets.set(name, t);
        } catch (e) {
          failed = true;
          setupErrors[`${name} (round ${round})`] = (e as Error).message;
          log(`${name}: restart for round ${round} FAILED, no more rounds of it\n${(e as Error).message}`);
          targets.delete(name);
          continue;
        }
      }
      if (round === 1 || opts.restartEveryRound) await wrk(t, 64, opts.warmupSeconds);
      const r = await measure(t, round);
      raw.get(name)!.push(r);
      const errs = failedResponses(r);
      log(
        `round ${round}/${opts.rounds} ${name.padEnd(22)} c1 p50 ${r.c1.p50_us.toFixed(0)}µs p99 ${r.c1.p99_us.toFixed(0)}µs | ` +
          `c64 ${r.c64.rps.toFixed(0)} req/s p99 ${r.c64.p99_us.toFixed(0)}µs` +
          (r.cpu_ms_per_1k !== undefined ? ` cpu ${r.cpu_ms_per_1k.toFixed(1)} ms/1k` : "") +
          (Object.keys(r.rss_mb).length ? ` rss ${Object.entries(r.rss_mb).map(([k, v]) => `${k}=${v.toFixed(0)}MB`).join(" ")}` : "") +
          (errs ? ` FAILED RESPONSES ${errs}${r.c64.requests === 0 ? " (no response at all at c=64)" : ""}` : "") +
          ((r.foreign_cpu_pct ?? 0) > 10 ? ` (other processes used ${r.foreign_cpu_pct}% of the machine: noisy)` : ""),
      );
    }
  }

  const scenarios: Partial<Record<ScenarioName, ScenarioSummary>> = {};
  for (const [name, rounds] of raw) scenarios[name] = summarize(rounds);
  // Keep the proxies' logs when any response failed: they hold the why.
  if (Object.values(scenarios).some((x) => x.errors > 0)) failed = true;
  let targetResults = evaluateTargets(scenarios);
  if (opts.settleRounds > 0) {
    // The last round's processes would only sit idle beside the paired rounds: stop them first.
    await Promise.all([...scenarioSets.values()].map((x) => x.stopAll()));
    const settled = await settleTargets(env, TARGETS, targetResults, {
      rounds: opts.settleRounds, all: opts.settleAll, seconds: 3, restartEvery: 2, warmup: 3, pinLoad: pin.pinLoad, pinProxy: pin.pinProxy, wrk: wrkBin, dir: join(tmp, "settle"),
      track: (x) => scenarioSets.set(`settle-${scenarioSets.size}`, x), transient: set.transient, log,
    });
    targetResults = settled.results;
    Object.assign(setupErrors, settled.errors);
    if (Object.keys(settled.errors).length > 0) failed = true;
  }

  console.log(`\n${renderTable(scenarios)}\n`);
  for (const t of targetResults) console.log(`${t.status.padEnd(4)}  ${t.name}: ${t.detail}`);
  for (const [name, why] of Object.entries(skipped)) console.log(`SKIPPED ${name}: ${why}`);
  for (const [name, err] of Object.entries(setupErrors)) console.log(`FAILED ${name}: ${err.split("\n")[0]}`);

  mkdirSync(RESULTS, { recursive: true });
  const out = {
    date: new Date().toISOString(),
    machine: { cpus: pin.ncpu, model: cpuModel(), bun: Bun.version, pinned: pin.pinned, busy_before_pct: Math.round(busy) },
    quick: opts.quick,
    access_log: opts.accessLog,
    rounds: opts.rounds,
    restart_every_round: opts.restartEveryRound,
    durations_s: { c1: opts.c1Seconds, c64: opts.c64Seconds, warmup: opts.warmupSeconds },
    scenarios: scenariosJson(scenarios),
    settle_rounds: opts.settleRounds,
    ...(opts.settleAll ? { settle_all: true } : {}),
    targets: Object.fromEntries(targetResults.map((t) => [t.name, { status: t.status, detail: t.detail, ...(t.settled ? { settled: t.settled } : {}) }])),
    setup_errors: setupErrors,
    skipped,
  };
  writeFileSync(join(RESULTS, "latest.json"), JSON.stringify(out, null, 2) + "\n");
  log(`wrote ${join(RESULTS, "latest.json")}`);
  writeFileSync(join(RESULTS, "latest.svg"), renderChart(out));
  log(`wrote ${join(RESULTS, "latest.svg")}`);
}

try {
  await main();
} catch (e) {
  failed = true;
  if (!stopping) console.error(e); // after Ctrl-C the error is just wrk being killed
  await shutdown(1);
}
await shutdown(failed ? 1 : 0);
