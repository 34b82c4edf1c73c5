// The settling pass of `npm run bench`: each target the run left near or below its line measured again as its two
// rows in alternating paired rounds (paired.ts, what bench/ab.ts --versus does), which then gives its verdict.
import { join } from "node:path";
import { runPaired, side, type PairedOptions } from "./paired.ts";
import type { ScenarioEnv } from "./scenarios.ts";
import { settledResult, settlePlans } from "./settle.ts";
import type { TargetCheck, TargetResult } from "./targets.ts";

export type SettleOptions = Omit<PairedOptions, "dir" | "onRound" | "c1"> & {
  readonly dir: string;
  /** taskset prefix of the proxies' CPU, where latency rounds run wrk (PairedOptions.c1). */
  readonly pinProxy: readonly string[];
  /** Settle every ratio target the run measured, not only the unsettled ones (--settle-all). */
  readonly all?: boolean;
  readonly log: (msg: string) => void;
};

/**
 * `results` with every unsettled ratio target judged again, in the same order. A comparison that fails (a setup
 * error, failed responses) keeps its targets' run verdicts with the reason appended, and is reported in `errors`.
 */
export async function settleTargets(
  env: ScenarioEnv,
  checks: readonly TargetCheck[],
  results: readonly TargetResult[],
  o: SettleOptions,
): Promise<{ results: TargetResult[]; errors: Record<string, string> }> {
  const out = [...results];
  const errors: Record<string, string> = {};
  // An infinite band leaves no round "clear" of its line: every target with a ratio (never a SKIP or an error MISS).
  const plans = settlePlans(checks, results, o.all === true ? Number.POSITIVE_INFINITY : undefined);
  if (plans.length === 0) o.log("settling: no target near its line");
  for (const [i, plan] of plans.entries()) {
    const title = `${plan.b} vs ${plan.a}${plan.base === undefined ? "" : ` over ${plan.base} at c=1`}`;
    o.log(`settling ${i + 1}/${plans.length}: ${title}, ${o.rounds} paired rounds of ${o.seconds} s (${plan.targets.length} target(s))`);
    const a = side("A", env.repo, plan.a);
    const b = side("B", env.repo, plan.b);
    const base = plan.base === undefined ? undefined : side("base", env.repo, plan.base);
    const line = (round: number): string =>
      base === undefined
        ? `A ${a.cpu.at(-1)!.toFixed(1)} ms/1k ${a.rps.at(-1)!.toFixed(0)} req/s, B ${b.cpu.at(-1)!.toFixed(1)} ms/1k ${b.rps.at(-1)!.toFixed(0)} req/s`
        : `c1 p50 A ${a.c1[round - 1]!.toFixed(0)} µs, B ${b.c1[round - 1]!.toFixed(0)} µs, base ${base.c1[round - 1]!.toFixed(0)} µs`;
    try {
      await runPaired(env, [{ title, a, b, ...(base ? { base } : {}) }], {
        ...o,
        dir: join(o.dir, `settle-${i}`),
        ...(base ? { c1: { pin: o.pinProxy } } : {}),
        onRound: (round) => o.log(`settling ${title} round ${round}/${o.rounds}: ${line(round)}`),
      });
    } catch (e) {
      const why = (e as Error).message.split("\n")[0] ?? "";
      errors[`settling ${title}`] = why;
      o.log(`settling ${title} FAILED, its targets keep the run's verdict: ${why}`);
      for (const spec of plan.targets) {
        const at = checks.findIndex((c) => c.ratio === spec);
        const r = out[at]!;
        out[at] = { ...r, detail: `${r.detail}; settling failed: ${why}` };
      }
      continue;
    }
    for (const spec of plan.targets) {
      const at = checks.findIndex((c) => c.ratio === spec);
      out[at] = settledResult(spec, out[at]!, a, b, base);
    }
  }
  return { results: out, errors };
}
