// Tests the bench targets (PASS/MISS/SKIP) on synthetic summaries: ratios to bun-bare, consul-pair and other
// scenarios, added latency, memory budgets; failed responses must turn a would-be PASS into a MISS.
import { describe, expect, test } from "bun:test";
import { summarize, type Summaries } from "./report.ts";
import { addedLatencyTarget, evaluateTargets, ratioTarget, rssGrowthTarget, rssLimitTarget, RSS_LIMIT_MB, type TargetResult } from "./targets.ts";
import { round, scenario, wrk } from "./test-rounds.ts";

const byName = (t: TargetResult[]): Record<string, TargetResult> => Object.fromEntries(t.map((x) => [x.name, x]));
const bare = scenario(1000, 40, { "bun-bare": 38 });

describe("evaluateTargets", () => {
  test("the hop against bun-bare: >= 0.85x req/s and <= 1.3x CPU", () => {
    const t = byName(evaluateTargets({ "bun-bare": bare, "sidecar-hop": scenario(860, 54, { sidecar: 45 }) }));
    expect(t["sidecar-hop rps >= 0.85x bun-bare"]).toEqual({ name: "sidecar-hop rps >= 0.85x bun-bare", status: "PASS", detail: "0.86x bun-bare, target >= 0.85x", ratio: 0.86, rounds: [0.86] });
    expect(t["sidecar-hop cpu_ms_per_1k <= 1.30x bun-bare"]).toMatchObject({ status: "MISS", detail: "1.35x bun-bare, target <= 1.3x" });
  });

  test("the pair against consul-pair: req/s and the c=1 latency it adds over direct", () => {
    const s: Summaries = {
      direct: scenario(60_000, undefined, {}, { c1p50: 20 }),
      "consul-pair": scenario(30_000, 30, { "consul-src": 60, "consul-dst": 60 }, { c1p50: 220 }),
      "sidecar-pair": scenario(19_000, 50, { "sidecar-a": 45, "sidecar-b": 45 }, { c1p50: 340 }),
    };
    const t = byName(evaluateTargets(s));
    expect(t["sidecar-pair rps >= 0.60x consul-pair"]!.status).toBe("PASS");
    expect(t["sidecar-pair c1 added p50 <= 1.50x consul-pair"]!.status).toBe("MISS"); // 320 > 1.5 * 200
    expect(t["sidecar-pair c1 added p50 <= 1.50x consul-pair"]!.detail).toBe("+320 µs vs consul-pair +200 µs (1.60x), target <= 1.5x");
    expect(t["sidecar-pair rps >= 0.40x bun-bare"]!.status).toBe("SKIP");
  });

  test("the gateway against the pair, and 10,000 routes against 10", () => {
    const t = byName(evaluateTargets({
      "sidecar-pair": scenario(1000, 100, { "sidecar-a": 45, "sidecar-b": 45 }),
      gateway: scenario(890, 100, { gateway: 45, "sidecar-b": 45 }),
      "sidecar-hop-10-routes": scenario(1000, 50, { sidecar: 45 }),
      "sidecar-hop-10k-routes": scenario(960, 52, { sidecar: 80 }),
    }));
    expect(t["gateway rps >= 0.90x sidecar-pair"]!.status).toBe("MISS");
    expect(t["sidecar-hop-10k-routes rps >= 0.95x sidecar-hop-10-routes"]!.status).toBe("PASS");
    expect(t["sidecar-hop-10k-routes peak RSS <= sidecar-hop-10-routes + 30 MB"]).toMatchObject({ status: "MISS", detail: "+35.0 MB (80.0 vs 45.0 MB), budget +30 MB" });
  });

  test("every sidecar of the shipped scenarios under 50 MB", () => {
    expect(RSS_LIMIT_MB).toBe(50);
    const t = byName(evaluateTargets({ "sidecar-pair": scenario(300, 90, { "sidecar-a": 50, "sidecar-b": 51 }), gateway: scenario(300, 90, { gateway: 80, "sidecar-b": 49 }) }));
    expect(t["every sidecar peak RSS <= 50 MB at c=64"]).toMatchObject({ status: "MISS", detail: "sidecar-pair/sidecar-b 51.0 MB" });
  });

  test("the memory limit names each sidecar's anonymous part when it was sampled", () => {
    const pair = summarize([{ ...round(1, 300, 90, { "sidecar-a": 78, "sidecar-b": 80 }), rss_anon_mb: { "sidecar-a": 41, "sidecar-b": 43.5 } }]);
    const t = byName(evaluateTargets({ "sidecar-pair": pair }, [rssLimitTarget(["sidecar-pair"], 50)]));
    expect(t["every sidecar peak RSS <= 50 MB at c=64"]).toMatchObject({ status: "MISS", detail: "sidecar-pair/sidecar-a 78.0 MB (anon 41.0), sidecar-pair/sidecar-b 80.0 MB (anon 43.5)" });
  });

  test("ratio targets are judged on the same rounds, and say each round's ratio and the ratio of medians", () => {
    const pair = summarize([round(1, 15_000, 60, {}), round(2, 8_000, 90, {}), round(3, 10_000, 80, {})]);
    const consul = summarize([round(1, 20_000, 40, {}), round(2, 10_000, 60, {}), round(3, 18_000, 45, {})]);
    const [t] = evaluateTargets({ "sidecar-pair": pair, "consul-pair": consul }, [ratioTarget("sidecar-pair", "rps", 0.6, "consul-pair")]);
    expect(t).toEqual({
      name: "sidecar-pair rps >= 0.60x consul-pair",
      status: "PASS",
      detail: "0.75x consul-pair (rounds 0.75/0.80/0.56; ratio of medians 0.56x), target >= 0.6x",
      ratio: 0.75,
      rounds: [0.75, 0.8, 10_000 / 18_000],
    });
    const [slow] = evaluateTargets({ "sidecar-pair": pair, "consul-pair": consul }, [ratioTarget("sidecar-pair", "rps", 0.8, "consul-pair")]);
    expect(slow!.status).toBe("MISS");
  });

  test("skips every target whose scenarios did not run", () => {
    expect(new Set(evaluateTargets({ "bun-bare": bare }).map((x) => x.status))).toEqual(new Set(["SKIP"]));
    expect(evaluateTargets({}).find((x) => x.name.includes("added p50"))!.detail).toBe("needs sidecar-pair and consul-pair and direct");
  });

  test("observability and idle policies are compared with their own reference scenarios", () => {
    const t = byName(evaluateTargets({
      "sidecar-hop-dark": scenario(1000, 100, { sidecar: 40 }),
      "sidecar-hop": scenario(1000, 104, { sidecar: 40 }),
      "sidecar-hop-policies": scenario(1000, 115, { sidecar: 40 }),
    }));
    expect(t["sidecar-hop cpu_ms_per_1k <= 1.05x sidecar-hop-dark"]).toMatchObject({ status: "PASS", detail: "1.04x sidecar-hop-dark, target <= 1.05x" });
    expect(t["sidecar-hop-policies cpu_ms_per_1k <= 1.10x sidecar-hop"]).toMatchObject({ status: "MISS", detail: "1.11x sidecar-hop, target <= 1.1x" });
    expect(t["sidecar-hop peak RSS <= sidecar-hop-dark + 5 MB"]).toMatchObject({ status: "PASS", detail: "+0.0 MB (40.0 vs 40.0 MB), budget +5 MB" });
  });
});

describe("failed responses", () => {
  test("turn a fast result into a MISS", () => {
    const [t] = evaluateTargets({ "bun-bare": bare, "sidecar-hop": scenario(5000, 5, { sidecar: 30 }, { non2xx: 12 }) }, [ratioTarget("sidecar-hop", "rps", 0.85, "bun-bare")]);
    expect(t!.status).toBe("MISS");
    expect(t!.detail).toContain("12 failed responses in sidecar-hop");
  });

  test("in the reference make the comparison a MISS too", () => {
    const s: Summaries = { "consul-pair": scenario(1000, 40, { "consul-src": 60 }, { non2xx: 3 }), "sidecar-pair": scenario(900, 40, { "sidecar-a": 40 }) };
    const [t] = evaluateTargets(s, [ratioTarget("sidecar-pair", "rps", 0.6, "consul-pair")]);
    expect(t).toMatchObject({ status: "MISS", detail: "0.90x consul-pair, target >= 0.6x (3 failed responses in consul-pair)" });
  });

  test("the added-latency target is judged on the median of its per-round ratios and names what it compares, to be settled", () => {
    const rows = (p50s: number[]) => summarize(p50s.map((p50, i) => ({ ...round(i + 1, 1000, 40, {}), c1: wrk(5000, { p50 }) })));
    const s: Summaries = {
      direct: rows([20, 20, 20]),
      "consul-pair": rows([120, 220, 170]), // adds 100, 200, 150
      "sidecar-pair": rows([170, 420, 260]), // adds 150, 400, 240: per round 1.5, 2.0, 1.6
    };
    const check = addedLatencyTarget("sidecar-pair", 1.5, "consul-pair");
    const [t] = evaluateTargets(s, [check]);
    // The medians alone (+240 vs +150 µs) would read 1.60x too; the rounds are what the settling pass looks at.
    expect(t).toEqual({
      name: "sidecar-pair c1 added p50 <= 1.50x consul-pair",
      status: "MISS",
      detail: "+240 µs vs consul-pair +150 µs (1.60x; rounds 1.50/2.00/1.60, ratio of medians 1.60x), target <= 1.5x",
      ratio: 1.6,
      rounds: [1.5, 2, 1.6],
    });
    expect(check.ratio).toEqual({ scenario: "sidecar-pair", metric: "c1_added_p50", bound: 1.5, against: "consul-pair" });
  });

  test("when the reference adds nothing in any round, the bound in µs decides and there is no ratio to settle", () => {
    const s: Summaries = { direct: scenario(60_000, undefined, {}, { c1p50: 50 }), "consul-pair": scenario(1000, 40, {}, { c1p50: 50 }), "sidecar-pair": scenario(900, 40, {}, { c1p50: 40 }) };
    const [t] = evaluateTargets(s, [addedLatencyTarget("sidecar-pair", 1.5, "consul-pair")]);
    expect(t).toEqual({ name: "sidecar-pair c1 added p50 <= 1.50x consul-pair", status: "PASS", detail: "-10 µs vs consul-pair +0 µs, target <= 1.5x" });
  });

  test("in direct make the added-latency target a MISS", () => {
    const s: Summaries = {
      direct: scenario(60_000, undefined, {}, { c1p50: 20, non2xx: 1 }),
      "consul-pair": scenario(1000, 40, {}, { c1p50: 200 }),
      "sidecar-pair": scenario(900, 40, {}, { c1p50: 100 }),
    };
    expect(evaluateTargets(s, [addedLatencyTarget("sidecar-pair", 1.5, "consul-pair")])[0]!.status).toBe("MISS");
  });
});

test("memory targets look at sidecar processes only and skip when there are none", () => {
  const s: Summaries = { gateway: scenario(1000, 10, { gateway: 200 }), "sidecar-hop": scenario(1000, 10, { sidecar: 45 }) };
  expect(evaluateTargets(s, [rssLimitTarget(["gateway"], 50)])[0]!.status).toBe("SKIP");
  expect(evaluateTargets(s, [rssGrowthTarget("gateway", "sidecar-hop", 5)])[0]!.status).toBe("SKIP");
});
