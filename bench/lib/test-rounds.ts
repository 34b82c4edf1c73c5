// Synthetic wrk rounds and one-round summaries for the report, targets and table tests.
// Only the numbers a test sets differ from a plausible default, so each test reads as what it checks.
import { summarize, type RoundResult, type ScenarioSummary } from "./report.ts";
import type { WrkResult } from "./wrk.ts";

export const wrk = (rps: number, opts: { p50?: number; p99?: number; non2xx?: number } = {}): WrkResult => ({
  requests: rps * 10, seconds: 10, rps, p50_us: opts.p50 ?? 100, p75_us: 200, p90_us: 300, p99_us: opts.p99 ?? 1000, non2xx: opts.non2xx ?? 0, socketErrors: 0,
});

export const round = (n: number, rps: number, cpu: number | undefined, rss: Record<string, number>, non2xx = 0): RoundResult => ({
  round: n, c1: wrk(5000), c64: wrk(rps, { non2xx }), cpu_ms_per_1k: cpu, rss_mb: rss,
});

/** One measured round as a summary: c=64 req/s, CPU-ms/1k, per-process peak RSS, the c=1 p50, failed responses. */
export function scenario(rps: number, cpu: number | undefined, rss: Record<string, number>, opts: { c1p50?: number; non2xx?: number } = {}): ScenarioSummary {
  return summarize([{ ...round(1, rps, cpu, rss, opts.non2xx), c1: wrk(5000, { p50: opts.c1p50 ?? 100 }) }]);
}
