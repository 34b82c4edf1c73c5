// Tests the settling pass's choices on synthetic run results: which targets are judged again, how targets sharing
// two rows share one comparison, and the verdict of paired rounds (never a PASS over failed responses).
import { describe, expect, test } from "bun:test";
import { settledResult, settlePlans, unsettled } from "./settle.ts";
import { addedLatencyTarget, evaluateTargets, ratioTarget, rssGrowthTarget, TARGETS, type RatioSpec, type TargetResult } from "./targets.ts";
import { scenario } from "./test-rounds.ts";

const rpsSpec: RatioSpec = { scenario: "tcp-pair", metric: "rps", bound: 1.2, against: "consul-pair" };
const cpuSpec: RatioSpec = { scenario: "sidecar-hop", metric: "cpu_ms_per_1k", bound: 1.05, against: "sidecar-hop-dark" };
const c1Spec: RatioSpec = { scenario: "sidecar-pair", metric: "c1_added_p50", bound: 1.5, against: "consul-pair" };
const result = (status: TargetResult["status"], ratio?: number): TargetResult => ({ name: "t", status, detail: "d", ...(ratio === undefined ? {} : { ratio }) });

describe("unsettled", () => {
  const withRounds = (status: TargetResult["status"], ratio: number, rounds: number[]): TargetResult => ({ ...result(status, ratio), rounds });

  test("a verdict whose median or any round lies within 10 % of the line, or across it, is judged again", () => {
    expect(unsettled(rpsSpec, withRounds("MISS", 1.04, [1.04, 1.21, 0.78]))).toBe(true); // rounds on both sides
    expect(unsettled(rpsSpec, withRounds("PASS", 1.3, [1.3, 1.35, 1.4]))).toBe(true); // 8 % over 1.2
    expect(unsettled(rpsSpec, withRounds("PASS", 1.4, [1.4, 1.5, 1.25]))).toBe(true); // one round 4 % over
    expect(unsettled(cpuSpec, withRounds("PASS", 1.0, [1.0, 0.9, 0.92]))).toBe(true); // 5 % under 1.05
    expect(unsettled(cpuSpec, withRounds("MISS", 1.37, [1.37, 1.54, 0.85]))).toBe(true);
    expect(unsettled(c1Spec, withRounds("MISS", 1.54, [1.54, 1.39, 0.71]))).toBe(true); // latency: at most, like CPU
  });

  test("a verdict every round of which is at least 10 % clear of the line stands, PASS or MISS alike", () => {
    expect(unsettled(rpsSpec, withRounds("PASS", 1.4, [1.4, 1.45, 1.33]))).toBe(false);
    expect(unsettled(rpsSpec, withRounds("MISS", 0.9, [0.9, 1.0, 1.05]))).toBe(false); // 1.05 = 1.2 / 1.143
    expect(unsettled(cpuSpec, withRounds("PASS", 0.8, [0.8, 0.9, 0.85]))).toBe(false);
    expect(unsettled(cpuSpec, withRounds("MISS", 1.3, [1.3, 1.2, 1.4]))).toBe(false);
    expect(unsettled(c1Spec, withRounds("PASS", 1.1, [1.1, 0.9, 1.3]))).toBe(false); // 1.3 = 1.5 / 1.154
    expect(unsettled(rpsSpec, result("PASS", 1.35))).toBe(false); // no rounds (older results): the median alone
  });

  test("a SKIP, and a MISS for failed responses (its ratio holds), are left as they are", () => {
    expect(unsettled(rpsSpec, result("SKIP"))).toBe(false);
    expect(unsettled(rpsSpec, withRounds("MISS", 1.21, [1.21, 1.19, 1.3]))).toBe(false);
    expect(unsettled(cpuSpec, result("MISS", 0.8))).toBe(false);
  });
});

describe("settlePlans", () => {
  test("targets on the same two rows share one comparison, in TARGETS order; non-ratio targets never settle", () => {
    const checks = [
      ratioTarget("sidecar-hop", "rps", 0.85, "bun-bare"),
      ratioTarget("sidecar-hop", "cpu_ms_per_1k", 1.3, "bun-bare"),
      rssGrowthTarget("sidecar-hop", "sidecar-hop-dark", 5),
      ratioTarget("tcp-pair", "rps", 1.2, "consul-pair"),
      ratioTarget("sidecar-pair", "rps", 0.6, "consul-pair"),
      ratioTarget("gateway", "rps", 0.9, "sidecar-pair"),
    ];
    const results = evaluateTargets({
      "bun-bare": scenario(1000, 40, {}),
      "sidecar-hop": scenario(870, 51, { sidecar: 70 }), // rps 0.87 (2 % over), CPU 1.275 (2 % under)
      "sidecar-hop-dark": scenario(900, 50, { sidecar: 60 }), // RSS +10 MB: a MISS, but not a ratio
      "consul-pair": scenario(1000, 30, {}),
      "tcp-pair": scenario(1120, 25, {}), // 1.12: a MISS within 10 % of the line
      "sidecar-pair": scenario(500, 90, {}), // 0.5: a MISS 17 % under the line, which stands
      gateway: scenario(700, 80, {}), // 1.4: clear
    }, checks);
    const plans = settlePlans(checks, results);
    expect(plans.map((p) => [p.a, p.b, p.targets.map((t) => t.metric)])).toEqual([
      ["bun-bare", "sidecar-hop", ["rps", "cpu_ms_per_1k"]],
      ["consul-pair", "tcp-pair", ["rps"]],
    ]);
    expect(plans[0]!.targets[0]).toBe(checks[0]!.ratio!); // the spec itself, so the runner finds its target again
  });

  test("an unsettled latency target gets a comparison of its own with direct as the base, beside a c=64 one on the same rows", () => {
    const checks = [ratioTarget("sidecar-pair", "rps", 0.6, "consul-pair"), addedLatencyTarget("sidecar-pair", 1.5, "consul-pair")];
    const results = evaluateTargets({
      direct: scenario(60_000, undefined, {}, { c1p50: 50 }),
      "consul-pair": scenario(1000, 30, {}, { c1p50: 190 }), // adds 140
      "sidecar-pair": scenario(620, 90, {}, { c1p50: 255 }), // 0.62x req/s; adds 205 = 1.46x
    }, checks);
    expect(results.map((r) => [r.status, r.ratio])).toEqual([["PASS", 0.62], ["PASS", 205 / 140]]);
    expect(settlePlans(checks, results)).toEqual([
      { a: "consul-pair", b: "sidecar-pair", targets: [checks[0]!.ratio!] },
      { a: "consul-pair", b: "sidecar-pair", base: "direct", targets: [checks[1]!.ratio!] },
    ]);
  });

  test("an infinite band (--settle-all) settles every ratio target with a ratio, still never a SKIP", () => {
    const checks = [ratioTarget("sidecar-pair", "rps", 0.6, "consul-pair"), ratioTarget("gateway", "rps", 0.9, "sidecar-pair"), ratioTarget("tcp-pair", "rps", 1.2, "consul-pair")];
    const results = evaluateTargets({ "consul-pair": scenario(1000, 30, {}), "sidecar-pair": scenario(500, 90, {}), gateway: scenario(700, 80, {}) }, checks);
    expect(results.map((r) => r.status)).toEqual(["MISS", "PASS", "SKIP"]); // both clear of their lines; no tcp-pair row
    expect(settlePlans(checks, results).length).toBe(0);
    expect(settlePlans(checks, results, Number.POSITIVE_INFINITY).map((p) => p.b)).toEqual(["sidecar-pair", "gateway"]);
  });

  test("every ratio target of the bench can be settled: each names its two rows", () => {
    const ratios = TARGETS.filter((t) => t.ratio !== undefined);
    expect(ratios.length).toBeGreaterThanOrEqual(12);
    for (const t of ratios) expect(t.ratio!.scenario).not.toBe(t.ratio!.against);
  });
});

describe("settledResult", () => {
  const first: TargetResult = { name: "tcp-pair rps >= 1.20x consul-pair", status: "MISS", detail: "1.04x consul-pair, target >= 1.2x", ratio: 1.04 };

  test("the median of the paired rounds' B/A decides, and the run's verdict stays in the detail", () => {
    const a = { rps: [10_000, 12_000, 8_000, 11_000, 9_000], cpu: [] };
    const b = { rps: [13_000, 14_400, 9_200, 13_530, 11_700], cpu: [] }; // 1.30, 1.20, 1.15, 1.23, 1.30
    const r = settledResult(rpsSpec, first, a, b);
    expect(r.status).toBe("PASS");
    expect(r.ratio).toBeCloseTo(1.23, 5);
    expect(r.settled).toEqual({ median: r.ratio!, min: 1.15, max: 1.3, rounds: 5 });
    expect(r.detail).toBe("settled 1.230x consul-pair (1.15–1.30, 5 paired rounds), target >= 1.2x; the run said MISS 1.04x consul-pair, target >= 1.2x");
  });

  test("from 6 rounds the detail and `settled` say where the median lies at 96 % and whether the line is inside that", () => {
    const a = { rps: Array<number>(12).fill(10_000), cpu: [] };
    // B/A: 0.96 1.08 1.12 1.15 1.18 1.19 1.21 1.22 1.25 1.27 1.35 1.44 (sorted): the median 1.20, the 3rd to 10th 1.12–1.27.
    const onLine = { rps: [1.21, 0.96, 1.44, 1.12, 1.27, 1.18, 1.35, 1.08, 1.22, 1.15, 1.25, 1.19].map((x) => x * 10_000), cpu: [] };
    const r = settledResult(rpsSpec, first, a, onLine);
    expect(r.status).toBe("PASS"); // the median's side still decides
    expect(r.settled).toMatchObject({ rounds: 12, interval: { lo: 1.12, hi: 1.27 }, clear: false });
    expect(r.settled!.interval!.coverage).toBeCloseTo(0.9614, 4);
    expect(r.detail).toStartWith("settled 1.2000x consul-pair (0.96–1.44, 12 paired rounds; the median within 1.12–1.27 at 96 %, the line inside), target >= 1.2x;");
    const clear = settledResult(rpsSpec, first, a, { rps: onLine.rps.map((x) => x * 1.2), cpu: [] });
    expect(clear.settled).toMatchObject({ interval: { lo: 1.344, hi: 1.524 }, clear: true });
    expect(clear.detail).toContain("the median within 1.34–1.52 at 96 %, clear of the line)");
  });

  test("a CPU target is at most its bound, read from the CPU figures", () => {
    const a = { rps: [], cpu: [30, 32, 31] };
    const r = settledResult(cpuSpec, { ...first, name: "hop cpu" }, a, { rps: [], cpu: [31.8, 33.9, 32.2] }); // 1.06, 1.059, 1.039
    expect(r.status).toBe("MISS");
    expect(r.settled!.rounds).toBe(3);
  });

  test("a median a hair under the line prints a fourth decimal instead of the line itself", () => {
    const r = settledResult({ ...rpsSpec, bound: 0.95 }, first, { rps: [1000], cpu: [] }, { rps: [949.93], cpu: [] });
    expect(r.status).toBe("MISS");
    expect(r.detail).toStartWith("settled 0.9499x consul-pair (0.95–0.95, 1 paired rounds), target >= 0.95x");
  });

  test("a latency target: the median of what B adds over the base over what A adds, round by round", () => {
    const a = { rps: [], cpu: [], c1: [190, 200, 180, 210, 60] }; // adds 140, 150, 130, 160, and 0 in the last round
    const b = { rps: [], cpu: [], c1: [260, 240, 270, 250, 300] }; // adds 210, 190, 220, 200, 250
    const base = { rps: [], cpu: [], c1: [50, 50, 50, 50, 60] };
    const first: TargetResult = { name: "sidecar-pair c1 added p50 <= 1.50x consul-pair", status: "MISS", detail: "+203 µs vs consul-pair +132 µs (1.54x), target <= 1.5x", ratio: 1.54 };
    const r = settledResult(c1Spec, first, a, b, base);
    // Per round 1.5, 1.267, 1.692, 1.25; the round where A added nothing has no ratio.
    expect(r.settled).toEqual({ median: (190 / 150 + 1.5) / 2, min: 1.25, max: 220 / 130, rounds: 4 });
    expect(r.status).toBe("PASS");
    expect(r.detail).toBe(`settled 1.383x consul-pair (1.25–1.69, 4 paired rounds; added +210 vs +140 µs (medians)), target <= 1.5x; the run said MISS ${first.detail}`);
    expect(settledResult(c1Spec, first, a, b).detail).toEndWith("settling measured no round"); // no base, no ratio
  });

  test("no measured round leaves the run's verdict", () => {
    const r = settledResult(rpsSpec, first, { rps: [], cpu: [] }, { rps: [], cpu: [] });
    expect(r).toMatchObject({ status: "MISS", ratio: 1.04, detail: "1.04x consul-pair, target >= 1.2x; settling measured no round" });
    expect(r.settled).toBeUndefined();
  });
});
