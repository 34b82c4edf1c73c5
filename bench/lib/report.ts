// Turns raw rounds into medians and compares scenarios with the references (bun-bare, consul-pair) and with direct.
// Pure functions over plain data, unit-tested without load; targets.ts and table.ts read what this computes.
import type { ScenarioName } from "./args.ts";
import { median, ratio } from "./stats.ts";
import type { WrkResult } from "./wrk.ts";

export type RoundResult = {
  readonly round: number;
  readonly c1: WrkResult;
  readonly c64: WrkResult;
  /** Proxy CPU per 1000 requests over the c64 run; undefined when the scenario has no proxy. */
  readonly cpu_ms_per_1k: number | undefined;
  /** Peak RSS per proxy process during the c64 run. */
  readonly rss_mb: Readonly<Record<string, number>>;
  /**
   * Peak anonymous resident memory (RssAnon) per proxy process: RSS minus the mapped files, of which the runtime's own
   * binary is most (shared by every process that runs it). Absent in results from before it was sampled.
   */
  readonly rss_anon_mb?: Readonly<Record<string, number>>;
  /** CPU used by other processes on the machine during the c64 run (percent of all CPUs). */
  readonly foreign_cpu_pct?: number;
};

export type ScenarioSummary = {
  c1: { p50_us: number; p99_us: number };
  c64: {
    rps: number;
    p99_us: number;
    cpu_ms_per_1k: number | null;
    /** Median over rounds of the summed per-process peaks. */
    rss_mb: number | null;
    /** Highest peak of each process over all rounds. */
    rss_mb_per_process: Record<string, number>;
    /** Highest anonymous-memory peak of each process over all rounds (see RoundResult.rss_anon_mb). */
    rss_anon_mb_per_process: Record<string, number>;
  };
  /** Failed responses over all runs (non-2xx/3xx and socket errors); non-zero makes the numbers suspect. */
  errors: number;
  raw: RoundResult[];
};

/**
 * Failed responses of one round. A run that completed no request at all (every connection stuck) shows
 * no wrk errors when its timeout outlasts the run, so it counts as one failure per connection.
 */
export function failedResponses(r: RoundResult): number {
  const run = (w: WrkResult, connections: number): number => w.non2xx + w.socketErrors + (w.requests === 0 ? connections : 0);
  return run(r.c1, 1) + run(r.c64, 64);
}

/** wrk reports 0 µs for a run without responses; that is no latency at all, so such runs are left out (they count as errors). */
function latency(rounds: readonly RoundResult[], run: "c1" | "c64", key: "p50_us" | "p99_us"): number {
  return median(rounds.filter((r) => r[run].requests > 0).map((r) => r[run][key]));
}

const peaksPerProcess = (maps: readonly (Readonly<Record<string, number>> | undefined)[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const m of maps) for (const [k, v] of Object.entries(m ?? {})) out[k] = Math.max(out[k] ?? 0, v);
  return out;
};

export function summarize(rounds: RoundResult[]): ScenarioSummary {
  const perProcess = peaksPerProcess(rounds.map((r) => r.rss_mb));
  const cpu = rounds.map((r) => r.cpu_ms_per_1k).filter((x): x is number => x !== undefined);
  const hasProxies = Object.keys(perProcess).length > 0;
  return {
    c1: { p50_us: latency(rounds, "c1", "p50_us"), p99_us: latency(rounds, "c1", "p99_us") },
    c64: {
      rps: median(rounds.map((r) => r.c64.rps)),
      p99_us: latency(rounds, "c64", "p99_us"),
      cpu_ms_per_1k: cpu.length > 0 ? median(cpu) : null,
      rss_mb: hasProxies ? median(rounds.map((r) => Object.values(r.rss_mb).reduce((a, b) => a + b, 0))) : null,
      rss_mb_per_process: perProcess,
      rss_anon_mb_per_process: peaksPerProcess(rounds.map((r) => r.rss_anon_mb)),
    },
    errors: rounds.reduce((n, r) => n + failedResponses(r), 0),
    raw: rounds,
  };
}

export type Summaries = Partial<Record<ScenarioName, ScenarioSummary>>;

/**
 * What every scenario is set against in the same run: our runtime's one-hop limit, the peer mesh's pair, and Bun's
 * floor for an L7 mTLS pair (bench/floor/: the least an HTTP-aware pair can do per request).
 */
export const REFERENCES = ["bun-bare", "consul-pair", "bun-l7-pair"] as const satisfies readonly ScenarioName[];
export type Reference = (typeof REFERENCES)[number];

/** The largest single process of a scenario (highest peak over the rounds): what a per-sidecar memory budget reads. */
export function maxProcessRssMb(x: ScenarioSummary | undefined): number | null {
  const peaks = Object.values(x?.c64.rss_mb_per_process ?? {});
  return peaks.length > 0 ? Math.max(...peaks) : null;
}

/** The largest anonymous-memory peak among a scenario's processes (null when not sampled). */
export function maxProcessAnonMb(x: ScenarioSummary | undefined): number | null {
  const peaks = Object.values(x?.c64.rss_anon_mb_per_process ?? {});
  return peaks.length > 0 ? Math.max(...peaks) : null;
}

/**
 * c=1 median latency minus `direct`'s: what the proxies in between add to one request (null without `direct`).
 * Both c=1 runs put wrk on the proxy CPU, so each pays the same cross-CPU hop to the upstream (see README).
 */
export function addedP50Us(s: Summaries, name: ScenarioName): number | null {
  const cur = s[name]?.c1.p50_us;
  const direct = s.direct?.c1.p50_us;
  return cur === undefined || direct === undefined || !Number.isFinite(cur) || !Number.isFinite(direct) ? null : cur - direct;
}

/**
 * What B adds over `base` as a multiple of what A adds, from three c=1 p50s (µs) of the same round; undefined when
 * A adds nothing measurable (the ratio would mean nothing) or a figure is missing.
 */
export function addedRatio(a: number | undefined, b: number | undefined, base: number | undefined): number | undefined {
  if (a === undefined || b === undefined || base === undefined) return undefined;
  const x = (b - base) / (a - base);
  return a - base > 0 && Number.isFinite(x) ? x : undefined;
}

/** Per round, what B adds over `base` over what A adds (c=1 p50s in µs, by index); rounds without a ratio left out. */
export function addedRatios(a: readonly number[], b: readonly number[], base: readonly number[]): number[] {
  return b.map((x, i) => addedRatio(a[i], x, base[i])).filter((x): x is number => x !== undefined);
}

/** The median over rounds of what `xs` adds over `base` (c=1 p50s in µs, by index). */
export const medianAdded = (xs: readonly number[], base: readonly number[]): number => median(xs.map((x, i) => x - (base[i] as number)));

/** "+12", "-3": latency added over `direct`, which noise can make negative on a fast row. */
export const signedUs = (us: number): string => `${us >= 0 ? "+" : ""}${us.toFixed(0)}`;

/** c=1 p50 by round number, leaving out runs without responses (they count as errors, not as 0 µs). */
const c1ByRound = (x: ScenarioSummary | undefined): Map<number, number> => new Map((x?.raw ?? []).filter((r) => r.c1.requests > 0).map((r) => [r.round, r.c1.p50_us]));

/** Per round both and `direct` ran, in round order: the c=1 p50 `name` adds over `direct` over what `against` adds. */
export function addedRoundRatios(s: Summaries, name: ScenarioName, against: ScenarioName): number[] {
  const [cur, ref, direct] = [c1ByRound(s[name]), c1ByRound(s[against]), c1ByRound(s.direct)];
  const out: number[] = [];
  for (const [round, p50] of cur) {
    const x = addedRatio(ref.get(round), p50, direct.get(round));
    if (x !== undefined) out.push(x);
  }
  return out;
}

export type RatioMetric = "rps" | "cpu_ms_per_1k";

const pickOf = (metric: RatioMetric) => (r: RoundResult): number | undefined => (metric === "rps" ? r.c64.rps : r.cpu_ms_per_1k);

/**
 * `cur` over `ref` in each round both ran (matched by round number), in round order. The rounds interleave the
 * scenarios, so a round's two numbers saw the same state of the machine; medians of two scenarios can come from
 * different rounds (a drift of the machine between rounds moves one median and not the other).
 */
export function roundRatios(cur: ScenarioSummary, ref: ScenarioSummary, metric: RatioMetric): number[] {
  const pick = pickOf(metric);
  const byRound = new Map(ref.raw.map((r) => [r.round, pick(r)]));
  const out: number[] = [];
  for (const r of cur.raw) {
    const x = ratio(pick(r), byRound.get(r.round));
    if (x !== undefined) out.push(x);
  }
  return out;
}

/** The median of the per-round ratios; the ratio of the two medians when no round has both (older results). */
export function sameRoundRatio(cur: ScenarioSummary, ref: ScenarioSummary, metric: RatioMetric): number | undefined {
  const perRound = roundRatios(cur, ref, metric);
  if (perRound.length > 0) return median(perRound);
  return ratio(cur.c64[metric] ?? undefined, ref.c64[metric] ?? undefined);
}

/** `rps`, `cpu`: medians of per-round ratios (what the targets read); `*_of_medians`: the ratio of the two medians. */
export type VsReference = { rps: number | null; cpu: number | null; rps_of_medians: number | null; cpu_of_medians: number | null };

const round3 = (x: number | undefined): number | null => (x === undefined ? null : Math.round(x * 1000) / 1000);

/** Ratios of `name` to each reference that ran: req/s and CPU-ms per 1000 requests. */
export function versus(s: Summaries, name: ScenarioName): Partial<Record<Reference, VsReference>> {
  const cur = s[name];
  const out: Partial<Record<Reference, VsReference>> = {};
  for (const ref of REFERENCES) {
    const r = s[ref];
    if (!cur || !r) continue;
    out[ref] = {
      rps: round3(sameRoundRatio(cur, r, "rps")),
      cpu: round3(sameRoundRatio(cur, r, "cpu_ms_per_1k")),
      rps_of_medians: round3(ratio(cur.c64.rps, r.c64.rps)),
      cpu_of_medians: round3(ratio(cur.c64.cpu_ms_per_1k ?? undefined, r.c64.cpu_ms_per_1k ?? undefined)),
    };
  }
  return out;
}

/** latest.json's `scenarios`: each summary with its added latency, largest process and ratios; raw rounds last. */
export function scenariosJson(s: Summaries): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, x] of Object.entries(s)) {
    const name = key as ScenarioName;
    out[name] = {
      c1: { ...x.c1, added_p50_us: addedP50Us(s, name) },
      c64: { ...x.c64, rss_mb_max_process: maxProcessRssMb(x), rss_anon_mb_max_process: maxProcessAnonMb(x) },
      vs: versus(s, name),
      errors: x.errors,
      raw: x.raw,
    };
  }
  return out;
}
