// The settling pass's pure part: which ratio targets a run leaves unsettled, the paired comparisons that judge them
// again, and the verdict those paired rounds give. The rounds themselves run in settle-run.ts.
import type { ScenarioName } from "./args.ts";
import { addedRatios, medianAdded, signedUs } from "./report.ts";
import { median, medianInterval } from "./stats.ts";
import { ADDED_BASE, type RatioSpec, type TargetCheck, type TargetResult } from "./targets.ts";

/**
 * How far from its line (relative, either way) every round of a run must be for the run's verdict to stand. Why
 * 10 %: three rounds of one start per row, measured minutes apart from the row they are compared with, put single
 * rounds of the same two rows up to 30 % apart on this VM (a full run read tcp-pair's rounds at 1.04/1.21/0.78 of
 * Consul's pair), while paired rounds of the same rows settle within a few per cent.
 */
export const SETTLE_BAND = 0.1;

/** Whether `bound` holds for `ratio` (rps: at least; CPU and latency: at most). */
export const holds = (spec: RatioSpec, ratio: number): boolean => (spec.metric === "rps" ? ratio >= spec.bound : ratio <= spec.bound);

/** How many times its line a ratio is, on the passing side when above 1 (rps: ratio/bound; else bound/ratio). */
const margin = (spec: RatioSpec, ratio: number): number => (spec.metric === "rps" ? ratio / spec.bound : spec.bound / ratio);

/**
 * A run's verdict that paired rounds should judge again: unless every round's ratio, and their median, lies on the
 * same side of the line and at least SETTLE_BAND from it. The same rule for PASS and MISS, so settling can turn
 * either. Never a SKIP, and never a MISS for failed responses (its ratio holds): settling must not hide errors.
 */
export function unsettled(spec: RatioSpec, r: TargetResult, band = SETTLE_BAND): boolean {
  if (r.status === "SKIP" || r.ratio === undefined) return false;
  if (r.status === "MISS" && holds(spec, r.ratio)) return false;
  const all = [r.ratio, ...(r.rounds ?? [])].map((x) => margin(spec, x));
  const clearPass = all.every((m) => m >= 1 + band);
  const clearMiss = all.every((m) => m <= 1 / (1 + band));
  return !clearPass && !clearMiss;
}

/**
 * One paired comparison: B = the target's scenario, A = what it is compared with; the targets it settles. With a
 * `base`, its rounds measure c=1 latency on all three (what B and A add over the base) instead of c=64 load.
 */
export type SettlePlan = { readonly a: ScenarioName; readonly b: ScenarioName; readonly base?: ScenarioName; readonly targets: readonly RatioSpec[] };

/** The comparisons that settle `results` (in TARGETS order), one per scenario pair and kind of round however many targets share it. */
export function settlePlans(checks: readonly TargetCheck[], results: readonly TargetResult[], band = SETTLE_BAND): SettlePlan[] {
  const plans = new Map<string, { a: ScenarioName; b: ScenarioName; base?: ScenarioName; targets: RatioSpec[] }>();
  checks.forEach((check, i) => {
    const spec = check.ratio;
    const r = results[i];
    if (spec === undefined || r === undefined || !unsettled(spec, r, band)) return;
    const latency = spec.metric === "c1_added_p50";
    const key = `${spec.against} ${spec.scenario}${latency ? " c1" : ""}`;
    const plan = plans.get(key) ?? { a: spec.against, b: spec.scenario, ...(latency ? { base: ADDED_BASE } : {}), targets: [] };
    plan.targets.push(spec);
    plans.set(key, plan);
  });
  return [...plans.values()];
}

/** Three decimals, or four where three would print the line itself (0.94993 is a MISS of 0.95, not "0.950"). */
const digits = (x: number, bound: number): string => (x.toFixed(3) === bound.toFixed(3) ? x.toFixed(4) : x.toFixed(3));

/** Per-round figures of one side of a paired comparison (paired.ts's Side); `c1`: c=1 p50s in µs, latency rounds only. */
export type PairedFigures = { readonly cpu: readonly number[]; readonly rps: readonly number[]; readonly c1?: readonly number[] };

/** Each paired round's ratio for `spec`: B over A, or for latency what B adds over `base` over what A adds. */
function pairedRatios(spec: RatioSpec, a: PairedFigures, b: PairedFigures, base: PairedFigures | undefined): number[] {
  if (spec.metric === "c1_added_p50") return addedRatios(a.c1 ?? [], b.c1 ?? [], base?.c1 ?? []);
  const [xa, xb] = spec.metric === "rps" ? [a.rps, b.rps] : [a.cpu, b.cpu];
  return xb.map((x, i) => x / (xa[i] as number)).filter((x) => Number.isFinite(x));
}

/** "; added +B vs +A µs (medians)" for a latency target, whose ratio alone hides how large either side is. */
function addedNote(spec: RatioSpec, a: PairedFigures, b: PairedFigures, base: PairedFigures | undefined): string {
  const [xa, xb, xd] = [a.c1 ?? [], b.c1 ?? [], base?.c1 ?? []];
  if (spec.metric !== "c1_added_p50" || xd.length === 0) return "";
  return `; added ${signedUs(medianAdded(xb, xd))} vs ${signedUs(medianAdded(xa, xd))} µs (medians)`;
}

/**
 * "; the median within 1.08–1.27 at 96 %, the line inside": how well the rounds pin the median down (stats.ts
 * medianInterval), and whether that is enough to tell it from the line. The verdict is still the median's side.
 */
function intervalNote(spec: RatioSpec, ratios: readonly number[]): { note: string; interval?: ReturnType<typeof medianInterval>; clear?: boolean } {
  const interval = medianInterval(ratios);
  if (interval === undefined) return { note: "" };
  const clear = spec.bound < interval.lo || spec.bound > interval.hi;
  const at = Math.floor(interval.coverage * 100);
  return { note: `; the median within ${interval.lo.toFixed(2)}–${interval.hi.toFixed(2)} at ${at} %, ${clear ? "clear of the line" : "the line inside"}`, interval, clear };
}

/**
 * The target judged on the median of the paired rounds' ratios (pairedRatios). The run's own verdict stays in the
 * detail, so latest.json shows both and which one decided; `clear` says whether the rounds tell the median from the
 * line at the interval's confidence (false: the verdict is the side of the line the median fell on this time).
 */
export function settledResult(spec: RatioSpec, first: TargetResult, a: PairedFigures, b: PairedFigures, base?: PairedFigures): TargetResult {
  const ratios = pairedRatios(spec, a, b, base);
  if (ratios.length === 0) return { ...first, detail: `${first.detail}; settling measured no round` };
  const m = median(ratios);
  const min = Math.min(...ratios);
  const max = Math.max(...ratios);
  const { note, interval, clear } = intervalNote(spec, ratios);
  return {
    name: first.name,
    status: holds(spec, m) ? "PASS" : "MISS",
    detail: `settled ${digits(m, spec.bound)}x ${spec.against} (${min.toFixed(2)}–${max.toFixed(2)}, ${ratios.length} paired rounds${note}${addedNote(spec, a, b, base)}), target ${spec.metric === "rps" ? ">=" : "<="} ${spec.bound}x; the run said ${first.status} ${first.detail}`,
    ratio: m,
    settled: { median: m, min, max, rounds: ratios.length, ...(interval === undefined ? {} : { interval, clear: clear! }) },
  };
}
