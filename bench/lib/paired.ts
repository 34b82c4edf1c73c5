// Paired rounds: two scenarios (or one from two checkouts) measured alternately under the same wrk load, restarted
// every few rounds, each round's B over the same round's A. Used by bench/ab.ts and by the runner's settling pass.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { ScenarioName } from "./args.ts";
import { probe } from "./harness.ts";
import { cpuMs, peakRssKb, RssSampler } from "./procstat.ts";
import { ProcessSet } from "./proc.ts";
import { SETUPS, type ScenarioEnv, type Target } from "./scenarios.ts";
import { median } from "./stats.ts";
import { runWrk, type WrkResult } from "./wrk.ts";

export type Side = {
  readonly label: "A" | "B" | "base";
  /** The checkout whose code this side runs. */
  readonly repo: string;
  readonly name: ScenarioName;
  /** Extra environment for this side's proxy processes. */
  readonly proxyEnv?: Record<string, string> | undefined;
  /** Per measured round: CPU-ms per 1000 requests of the proxies, req/s. */
  readonly cpu: number[];
  readonly rps: number[];
  /** Per measured round, in MB: the largest proxy's RSS peak under that round's load (sampled every 100 ms). */
  readonly rss: number[];
  /**
   * Per measured round, in MB: the largest proxy's peak since its start (VmHWM). Not the same as `rss`: a
   * 10,000-route sidecar peaks while it reads its config, long before any load (104–135 MB against ~93 under load).
   */
  readonly hwm: number[];
  /** Per measured round of a latency comparison (PairedOptions.c1): wrk's c=1 p50 in µs. */
  readonly c1: number[];
  t: Target | undefined;
  set: ProcessSet | undefined;
};

/**
 * One comparison: B's scenario against A's (the same scenario from another checkout, or another scenario). A `base`
 * is a third side measured in the same rounds, what latency is added over (`direct`).
 */
export type Comparison = { readonly title: string; readonly a: Side; readonly b: Side; readonly base?: Side };

export type PairedOptions = {
  readonly rounds: number;
  /** Seconds of c=64 load per side and round. */
  readonly seconds: number;
  /** Every this many rounds both sides' processes are started afresh, in alternating order. */
  readonly restartEvery: number;
  /** Seconds of load on each side after a start, before its first measured round. */
  readonly warmup: number;
  /** taskset prefix for wrk. */
  readonly pinLoad: readonly string[];
  /** The wrk binary (wrk.ts findWrk). */
  readonly wrk: string;
  /** Where each side and start gets a directory of its own (configs are written by scenario name). */
  readonly dir: string;
  /** Every process set started, so the caller can stop them all, also on Ctrl-C. */
  readonly track: (set: ProcessSet) => void;
  /** Holds wrk's PID while it runs, for the same reason (a ProcessSet's `transient`). */
  readonly transient?: Set<number> | undefined;
  readonly onRound?: ((round: number, sides: readonly Side[]) => void) | undefined;
  /**
   * Rounds measure c=1 latency instead of c=64 load: wrk with one connection for `seconds` on `pin` (the proxies'
   * CPU, as the runner's c=1 runs do, so a request pays no cross-CPU wake-up), its p50 into each side's `c1`.
   */
  readonly c1?: { readonly pin: readonly string[] } | undefined;
};

/** A comparison's sides in start order: A, B, then the base when it has one. */
export const sidesOf = (c: Comparison): Side[] => [c.a, c.b, ...(c.base ? [c.base] : [])];

export function side(label: Side["label"], repo: string, name: ScenarioName, proxyEnv?: Record<string, string>): Side {
  return { label, repo, name, proxyEnv, cpu: [], rps: [], rss: [], hwm: [], c1: [], t: undefined, set: undefined };
}

/** c=64 load on `t` for `seconds` (or c=1 on `pin`), its PID in `o.transient` while it runs. */
async function wrk(t: Target, seconds: number, o: PairedOptions, c1?: { readonly pin: readonly string[] }): Promise<WrkResult> {
  let pid = 0;
  try {
    const [connections, pin] = c1 === undefined ? [64, o.pinLoad] : [1, c1.pin];
    return await runWrk({ bin: o.wrk, url: t.url, host: t.host, connections, seconds, pin, onSpawn: (p) => o.transient?.add((pid = p)) });
  } finally {
    o.transient?.delete(pid);
  }
}

function failed(s: Side, r: WrkResult): Error | undefined {
  return r.non2xx > 0 || r.socketErrors > 0 || r.requests === 0 ? new Error(`${s.label} ${s.name}: ${r.non2xx} non-2xx, ${r.socketErrors} socket errors`) : undefined;
}

async function measure(s: Side, o: PairedOptions): Promise<void> {
  const t = s.t!;
  if (o.c1 !== undefined) {
    const r = await wrk(t, o.seconds, o, o.c1);
    const e = failed(s, r);
    if (e) throw e;
    s.c1.push(r.p50_us);
    return;
  }
  const pids = [...t.proxies.values()].map((m) => m.pid);
  const sampler = new RssSampler(new Map(pids.map((p) => [String(p), p])));
  const before = pids.reduce((a, p) => a + cpuMs(p), 0);
  sampler.start();
  const r = await wrk(t, o.seconds, o);
  const after = pids.reduce((a, p) => a + cpuMs(p), 0);
  const underLoad = sampler.stop().rss;
  const e = failed(s, r);
  if (e) throw e;
  s.cpu.push(((after - before) / r.requests) * 1000);
  s.rps.push(r.rps);
  s.rss.push(Math.max(...Object.values(underLoad)));
  // Sides restart every few rounds, so this is that start's peak so far.
  s.hwm.push(Math.max(...pids.map(peakRssKb)) / 1024);
}

/**
 * Starts every side, A then B on even starts and B then A on odd ones. Why fresh processes every few rounds: each
 * start of a side carries an offset of its own that lasts as long as its processes (A/A runs, the same code on both
 * sides, read paired medians from 0.92 to 1.06 on the pair within one start), so only many starts average it out.
 */
async function setUp(env: ScenarioEnv, comparisons: readonly Comparison[], start: number, o: PairedOptions): Promise<void> {
  for (const [i, c] of comparisons.entries()) {
    const sides = sidesOf(c);
    for (const s of start % 2 === 0 ? sides : sides.reverse()) {
      const dir = join(o.dir, `${i}-${s.label}-${s.name}-${start}`);
      mkdirSync(dir, { recursive: true });
      s.set = new ProcessSet(dir);
      o.track(s.set);
      s.t = await SETUPS[s.name]({ ...env, repo: s.repo, tmp: dir, set: s.set, proxyEnv: s.proxyEnv });
      await probe(s.name, s.t);
      await wrk(s.t, o.warmup, o);
    }
  }
}

/** Runs the rounds, filling each side's figures; stops every side's processes at the end, also on failure. */
export async function runPaired(env: ScenarioEnv, comparisons: readonly Comparison[], o: PairedOptions): Promise<void> {
  const sides = comparisons.flatMap(sidesOf);
  try {
    for (let round = 1; round <= o.rounds; round++) {
      if ((round - 1) % o.restartEvery === 0) {
        await Promise.all(sides.map((s) => s.set?.stopAll()));
        await setUp(env, comparisons, (round - 1) / o.restartEvery, o);
      }
      // Alternate which side goes first, so a drift within a round favours neither.
      const order = round % 2 === 1 ? sides : [...sides].reverse();
      for (const s of order) await measure(s, o);
      o.onRound?.(round, sides);
    }
  } finally {
    await Promise.all(sides.map((s) => s.set?.stopAll()));
  }
}

/** Each round's B over the same round's A, so drift across rounds (the VM's neighbours) cancels out. */
export const pairedOf = (a: readonly number[], b: readonly number[]): number[] => b.map((x, i) => x / a[i]!);

/** "median (min–max)" of per-round ratios. */
export const spreadOf = (r: readonly number[]): string => `${median(r).toFixed(3)} (${Math.min(...r).toFixed(2)}–${Math.max(...r).toFixed(2)})`;
