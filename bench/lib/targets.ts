// The bench's performance targets (issue 11) as PASS / MISS / SKIP, each one line in TARGETS.
// A target whose scenarios did not run is SKIP; one whose scenarios had failed responses is a MISS.
import type { ScenarioName } from "./args.ts";
import { addedP50Us, addedRoundRatios, roundRatios, signedUs, sameRoundRatio, type ScenarioSummary, type Summaries } from "./report.ts";
import { median, ratio, type MedianInterval } from "./stats.ts";

export type TargetResult = {
  readonly name: string;
  readonly status: "PASS" | "MISS" | "SKIP";
  readonly detail: string;
  /** A ratio target's median of per-round ratios in the run (what its status was judged on). */
  readonly ratio?: number;
  /** A ratio target's per-round ratios in the run. */
  readonly rounds?: readonly number[];
  /** Set when the settling pass judged it again in paired rounds (settle.ts); its status is then that pass's. */
  readonly settled?: {
    readonly median: number;
    readonly min: number;
    readonly max: number;
    readonly rounds: number;
    /** Where the median lies at `interval.coverage` (6 rounds or more), and whether the line is outside that. */
    readonly interval?: MedianInterval;
    readonly clear?: boolean;
  };
};

/**
 * What a ratio target compares: `scenario`'s `metric` against `against`'s, at least (rps) or at most (CPU, latency)
 * `bound`. c1_added_p50 is the c=1 p50 each adds over `direct` (ADDED_BASE), so judging it measures `direct` too.
 */
export type RatioSpec = {
  readonly scenario: ScenarioName;
  readonly metric: "rps" | "cpu_ms_per_1k" | "c1_added_p50";
  readonly bound: number;
  readonly against: ScenarioName;
};

/** What added latency is measured over: the upstream with nothing in between. */
export const ADDED_BASE = "direct" satisfies ScenarioName;

/** A target: its check over a run's summaries, and for a ratio target what it compares (so it can be settled). */
export type TargetCheck = ((s: Summaries) => TargetResult) & { readonly ratio?: RatioSpec };

export const RSS_LIMIT_MB = 50;

const skip = (name: string, needs: readonly ScenarioName[]): TargetResult => ({ name, status: "SKIP", detail: `needs ${needs.join(" and ")}` });

/** " (N failed responses in X)" for each scenario with errors: its numbers cannot back a PASS. */
function errorNote(s: Summaries, names: readonly ScenarioName[]): string {
  return names.filter((n) => (s[n]?.errors ?? 0) > 0).map((n) => ` (${s[n]!.errors} failed responses in ${n})`).join("");
}

/**
 * rps: at least `bound` x `against`; cpu_ms_per_1k: at most. Judged on the median of the per-round ratios (both
 * scenarios measured in the same round); the detail also gives each round's ratio and the ratio of the medians.
 */
export function ratioTarget(scenario: ScenarioName, metric: "rps" | "cpu_ms_per_1k", bound: number, against: ScenarioName): TargetCheck {
  const atLeast = metric === "rps";
  const name = `${scenario} ${metric} ${atLeast ? ">=" : "<="} ${bound.toFixed(2)}x ${against}`;
  const check = (s: Summaries): TargetResult => {
    const cur = s[scenario];
    const ref = s[against];
    const r = cur && ref ? sameRoundRatio(cur, ref, metric) : undefined;
    if (cur === undefined || ref === undefined || r === undefined) return skip(name, [scenario, against]);
    const errs = errorNote(s, [scenario, against]);
    const ok = (atLeast ? r >= bound : r <= bound) && errs === "";
    const rounds = roundRatios(cur, ref, metric);
    const ofMedians = ratio(cur.c64[metric] ?? undefined, ref.c64[metric] ?? undefined);
    const spread = rounds.length > 1 ? ` (rounds ${rounds.map((x) => x.toFixed(2)).join("/")}; ratio of medians ${ofMedians?.toFixed(2) ?? "-"}x)` : "";
    return { name, status: ok ? "PASS" : "MISS", detail: `${r.toFixed(2)}x ${against}${spread}, target ${atLeast ? ">=" : "<="} ${bound}x${errs}`, ratio: r, rounds };
  };
  return Object.assign(check, { ratio: { scenario, metric, bound, against } });
}

/**
 * The c=1 p50 that `scenario` adds over `direct`, at most `bound` x what `against` adds. Judged like a ratio target on
 * the median of the per-round ratios (the three rows measured in the same round), so it can be settled like one.
 */
export function addedLatencyTarget(scenario: ScenarioName, bound: number, against: ScenarioName): TargetCheck {
  const name = `${scenario} c1 added p50 <= ${bound.toFixed(2)}x ${against}`;
  const check = (s: Summaries): TargetResult => {
    const cur = addedP50Us(s, scenario);
    const ref = addedP50Us(s, against);
    if (cur === null || ref === null) return skip(name, [scenario, against, ADDED_BASE]);
    const errs = errorNote(s, [scenario, against, ADDED_BASE]);
    const rounds = addedRoundRatios(s, scenario, against);
    const ofMedians = ref > 0 ? cur / ref : undefined;
    // When the reference adds nothing measurable in any round the ratio means nothing; the bound in µs decides.
    const r = rounds.length > 0 ? median(rounds) : ofMedians;
    const ok = (r === undefined ? cur <= bound * ref : r <= bound) && errs === "";
    const spread = rounds.length > 1 ? `; rounds ${rounds.map((x) => x.toFixed(2)).join("/")}, ratio of medians ${ofMedians?.toFixed(2) ?? "-"}x` : "";
    const shown = r === undefined ? "" : ` (${r.toFixed(2)}x${spread})`;
    return {
      name,
      status: ok ? "PASS" : "MISS",
      detail: `${signedUs(cur)} µs vs ${against} ${signedUs(ref)} µs${shown}, target <= ${bound}x${errs}`,
      ...(r === undefined ? {} : { ratio: r, rounds }),
    };
  };
  return Object.assign(check, { ratio: { scenario, metric: "c1_added_p50" as const, bound, against } });
}

/** Highest peak of the scenario's sidecar processes (the gateway and peers are not sidecars). */
function sidecarPeakMb(x: ScenarioSummary | undefined): number | undefined {
  const peaks = Object.entries(x?.c64.rss_mb_per_process ?? {}).filter(([p]) => p.startsWith("sidecar")).map(([, mb]) => mb);
  return peaks.length > 0 ? Math.max(...peaks) : undefined;
}

/** The peak RSS of `scenario`'s sidecar against `against`'s: a memory budget in MB. */
export function rssGrowthTarget(scenario: ScenarioName, against: ScenarioName, budgetMb: number): TargetCheck {
  const name = `${scenario} peak RSS <= ${against} + ${budgetMb} MB`;
  return (s) => {
    const cur = sidecarPeakMb(s[scenario]);
    const ref = sidecarPeakMb(s[against]);
    if (cur === undefined || ref === undefined) return skip(name, [scenario, against]);
    const grown = cur - ref;
    return { name, status: grown <= budgetMb ? "PASS" : "MISS", detail: `${grown >= 0 ? "+" : ""}${grown.toFixed(1)} MB (${cur.toFixed(1)} vs ${ref.toFixed(1)} MB), budget +${budgetMb} MB` };
  };
}

/** " (anon X MB)": how much of a process's peak is its own memory rather than mapped files, when it was sampled. */
function anonNote(x: ScenarioSummary | undefined, proc: string): string {
  const anon = x?.c64.rss_anon_mb_per_process[proc];
  return anon === undefined ? "" : ` (anon ${anon.toFixed(1)})`;
}

/** Every sidecar process of the shipped-configuration scenarios under `limitMb` at c=64. */
export function rssLimitTarget(scenarios: readonly ScenarioName[], limitMb: number): TargetCheck {
  const name = `every sidecar peak RSS <= ${limitMb} MB at c=64`;
  return (s) => {
    const sidecars: { label: string; mb: number; anon: string }[] = [];
    for (const n of scenarios) {
      for (const [proc, mb] of Object.entries(s[n]?.c64.rss_mb_per_process ?? {})) {
        if (proc.startsWith("sidecar")) sidecars.push({ label: `${n}/${proc}`, mb, anon: anonNote(s[n], proc) });
      }
    }
    if (sidecars.length === 0) return { name, status: "SKIP", detail: "no sidecar scenario ran" };
    const over = sidecars.filter((x) => x.mb > limitMb);
    return { name, status: over.length === 0 ? "PASS" : "MISS", detail: (over.length > 0 ? over : sidecars).map((x) => `${x.label} ${x.mb.toFixed(1)} MB${x.anon}`).join(", ") };
  };
}

/** In print order. Adding a target = one line here (and one in bench/README.md). */
export const TARGETS: readonly TargetCheck[] = [
  // One hop against the runtime's own limit.
  ratioTarget("sidecar-hop", "rps", 0.85, "bun-bare"),
  ratioTarget("sidecar-hop", "cpu_ms_per_1k", 1.3, "bun-bare"),
  // The mesh path against Consul's built-in proxy pair, the bar a Consul user compares us with.
  ratioTarget("sidecar-pair", "rps", 0.4, "bun-bare"),
  ratioTarget("sidecar-pair", "rps", 0.6, "consul-pair"),
  addedLatencyTarget("sidecar-pair", 1.5, "consul-pair"),
  ratioTarget("gateway", "rps", 0.9, "sidecar-pair"),
  // A TCP service carried at L4 on both sides (mTLS, SPIFFE ids, no HTTP parsing) against Consul's L4 pair.
  ratioTarget("tcp-pair", "rps", 1.2, "consul-pair"),
  // Not ours: whether the runtime itself clears that bar in this run (Bun's floor for an L4 pair, bench/floor/). A MISS
  // here with one on tcp-pair says the bar is past what Bun does on this machine today, not past our code.
  ratioTarget("bun-l4-pair", "rps", 1.2, "consul-pair"),
  // What observability (metrics on, 1 % of traces) and configured-but-idle resilience cost.
  ratioTarget("sidecar-hop", "cpu_ms_per_1k", 1.05, "sidecar-hop-dark"),
  ratioTarget("sidecar-pair", "cpu_ms_per_1k", 1.05, "sidecar-pair-dark"),
  ratioTarget("sidecar-hop-policies", "cpu_ms_per_1k", 1.1, "sidecar-hop"),
  ratioTarget("sidecar-pair-policies", "cpu_ms_per_1k", 1.1, "sidecar-pair"),
  // A canary split (two subsets, 90/10, a timeout) costs what one destination does.
  ratioTarget("sidecar-hop-canary", "cpu_ms_per_1k", 1.1, "sidecar-hop"),
  rssGrowthTarget("sidecar-hop", "sidecar-hop-dark", 5),
  // 10,000 routes must cost about as much per request as 10, and little memory.
  ratioTarget("sidecar-hop-10k-routes", "rps", 0.95, "sidecar-hop-10-routes"),
  rssGrowthTarget("sidecar-hop-10k-routes", "sidecar-hop-10-routes", 30),
  rssLimitTarget(["sidecar-hop", "sidecar-pair", "gateway", "tcp-pair"], RSS_LIMIT_MB),
];

export function evaluateTargets(s: Summaries, targets: readonly TargetCheck[] = TARGETS): TargetResult[] {
  return targets.map((t) => t(s));
}
