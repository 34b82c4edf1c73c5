// Turns raw rounds into medians, evaluates the performance targets, and renders the table and latest.json.
// Pure functions over plain data so targets and formatting are unit-tested without running load.
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
  };
  /** Failed responses over all runs (non-2xx/3xx and socket errors); non-zero makes the numbers suspect. */
  errors: number;
  raw: RoundResult[];
};

export type TargetResult = { readonly name: string; readonly status: "PASS" | "MISS" | "SKIP"; readonly detail: string };

export const RSS_LIMIT_MB = 60;

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

export function summarize(rounds: RoundResult[]): ScenarioSummary {
  const perProcess: Record<string, number> = {};
  for (const r of rounds) for (const [k, v] of Object.entries(r.rss_mb)) perProcess[k] = Math.max(perProcess[k] ?? 0, v);
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
    },
    errors: rounds.reduce((n, r) => n + failedResponses(r), 0),
    raw: rounds,
  };
}

type Summaries = Partial<Record<ScenarioName, ScenarioSummary>>;

function ratioTarget(name: string, s: Summaries, scenario: ScenarioName, metric: "rps" | "cpu_ms_per_1k", bound: number, atLeast: boolean, against: ScenarioName = "bun-bare"): TargetResult {
  const cur = s[scenario];
  const ref = s[against];
  const r = ratio(cur?.c64[metric] ?? undefined, ref?.c64[metric] ?? undefined);
  if (!cur || !ref || r === undefined) return { name, status: "SKIP", detail: `needs ${scenario} and ${against}` };
  const ok = (atLeast ? r >= bound : r <= bound) && cur.errors === 0;
  const errs = cur.errors > 0 ? ` (${cur.errors} failed responses)` : "";
  return { name, status: ok ? "PASS" : "MISS", detail: `${r.toFixed(2)}x ${against}, target ${atLeast ? ">=" : "<="} ${bound}x${errs}` };
}

/** The peak RSS of `scenario`'s sidecar against `against`'s: a memory budget in MB (highest peak of each over all rounds). */
function rssGrowthTarget(name: string, s: Summaries, scenario: ScenarioName, against: ScenarioName, budgetMb: number): TargetResult {
  const peak = (x: ScenarioSummary | undefined) => (x === undefined ? undefined : Math.max(...Object.entries(x.c64.rss_mb_per_process).filter(([p]) => p.startsWith("sidecar")).map(([, mb]) => mb)));
  const cur = peak(s[scenario]);
  const ref = peak(s[against]);
  if (cur === undefined || ref === undefined || !Number.isFinite(cur) || !Number.isFinite(ref)) return { name, status: "SKIP", detail: `needs ${scenario} and ${against}` };
  const grown = cur - ref;
  return { name, status: grown <= budgetMb ? "PASS" : "MISS", detail: `${grown >= 0 ? "+" : ""}${grown.toFixed(1)} MB (${cur.toFixed(1)} vs ${ref.toFixed(1)} MB), budget +${budgetMb} MB` };
}

export function evaluateTargets(s: Summaries): TargetResult[] {
  const out = [
    ratioTarget("sidecar-hop rps >= 0.90x bun-bare", s, "sidecar-hop", "rps", 0.9, true),
    ratioTarget("sidecar-hop cpu_ms_per_1k <= 1.15x bun-bare", s, "sidecar-hop", "cpu_ms_per_1k", 1.15, false),
    ratioTarget("sidecar-pair rps >= 0.40x bun-bare", s, "sidecar-pair", "rps", 0.4, true),
    // What observability costs (metrics on, 1 % of traces exported) and what configured-but-idle resilience costs.
    ratioTarget("sidecar-hop cpu_ms_per_1k <= 1.05x sidecar-hop-dark", s, "sidecar-hop", "cpu_ms_per_1k", 1.05, false, "sidecar-hop-dark"),
    ratioTarget("sidecar-pair cpu_ms_per_1k <= 1.05x sidecar-pair-dark", s, "sidecar-pair", "cpu_ms_per_1k", 1.05, false, "sidecar-pair-dark"),
    ratioTarget("sidecar-hop-policies cpu_ms_per_1k <= 1.10x sidecar-hop", s, "sidecar-hop-policies", "cpu_ms_per_1k", 1.1, false, "sidecar-hop"),
    rssGrowthTarget("sidecar-hop peak RSS <= sidecar-hop-dark + 5 MB", s, "sidecar-hop", "sidecar-hop-dark", 5),
  ];
  const sidecars: { label: string; mb: number }[] = [];
  for (const name of ["sidecar-hop", "sidecar-pair", "gateway"] as const) {
    for (const [proc, mb] of Object.entries(s[name]?.c64.rss_mb_per_process ?? {})) {
      if (proc.startsWith("sidecar")) sidecars.push({ label: `${name}/${proc}`, mb });
    }
  }
  const over = sidecars.filter((x) => x.mb > RSS_LIMIT_MB);
  out.push({
    name: `every sidecar peak RSS <= ${RSS_LIMIT_MB} MB at c=64`,
    status: sidecars.length === 0 ? "SKIP" : over.length === 0 ? "PASS" : "MISS",
    detail: sidecars.length === 0 ? "no sidecar scenario ran" : (over.length > 0 ? over : sidecars).map((x) => `${x.label} ${x.mb.toFixed(1)} MB`).join(", "),
  });
  return out;
}

const fmt = (n: number | null | undefined, digits = 0): string =>
  n === null || n === undefined || !Number.isFinite(n) ? "-" : n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

export function renderTable(s: Summaries): string {
  const head = ["scenario", "c1 p50 µs", "c1 p99 µs", "c64 req/s", "c64 p99 µs", "CPU-ms/1k", "RSS MB", "req/s vs bare", "CPU vs bare", "errors"];
  const ref = s["bun-bare"];
  const rows = Object.entries(s).map(([name, v]) => [
    name,
    fmt(v.c1.p50_us),
    fmt(v.c1.p99_us),
    fmt(v.c64.rps),
    fmt(v.c64.p99_us),
    fmt(v.c64.cpu_ms_per_1k, 1),
    fmt(v.c64.rss_mb, 1),
    fmt(ratio(v.c64.rps, ref?.c64.rps), 2),
    fmt(ratio(v.c64.cpu_ms_per_1k ?? undefined, ref?.c64.cpu_ms_per_1k ?? undefined), 2),
    String(v.errors),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}
