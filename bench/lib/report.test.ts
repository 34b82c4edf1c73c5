// Tests summarizing rounds and comparing scenarios: medians, failed responses, ratios to the references, and the
// latency a scenario adds over `direct`, as they land in latest.json.
import { describe, expect, test } from "bun:test";
import { addedP50Us, addedRatio, addedRoundRatios, failedResponses, maxProcessRssMb, roundRatios, sameRoundRatio, scenariosJson, summarize, versus, type ScenarioSummary, type Summaries } from "./report.ts";
import { round, scenario, wrk } from "./test-rounds.ts";

describe("summarize", () => {
  test("takes medians over rounds and the max RSS per process", () => {
    const s = summarize([round(1, 100, 10, { a: 30, b: 20 }), round(2, 300, 30, { a: 40, b: 10 }), round(3, 200, 20, { a: 35, b: 15 })]);
    expect(s.c64.rps).toBe(200);
    expect(s.c64.cpu_ms_per_1k).toBe(20);
    expect(s.c64.rss_mb).toBe(50); // sums 50, 50, 50
    expect(s.c64.rss_mb_per_process).toEqual({ a: 40, b: 20 });
    expect(maxProcessRssMb(s)).toBe(40);
    expect(s.errors).toBe(0);
  });

  test("a scenario without proxies has no CPU or RSS", () => {
    const s = summarize([round(1, 100, undefined, {})]);
    expect(s.c64.cpu_ms_per_1k).toBeNull();
    expect(s.c64.rss_mb).toBeNull();
    expect(maxProcessRssMb(s)).toBeNull();
  });
});

test("a run without a single response counts one failure per connection", () => {
  const stuck = round(1, 0, undefined, { sidecar: 50 });
  expect(failedResponses(stuck)).toBe(64); // c=64 got nothing; the c=1 run in this fixture did answer
  expect(summarize([stuck]).errors).toBe(64);
});

test("latency medians leave out runs that got no response (wrk prints 0 µs for them)", () => {
  const ok = round(1, 1000, 40, { sidecar: 50 });
  const stuck = { ...round(2, 0, undefined, { sidecar: 50 }), c1: { ...wrk(0), requests: 0, p50_us: 0, p99_us: 0 } };
  const s = summarize([ok, stuck]);
  expect(s.c1.p50_us).toBe(100);
  expect(s.c64.p99_us).toBe(1000);
  expect(s.c64.rps).toBe(500); // throughput keeps the zero: the median of 1000 and 0
});

describe("comparisons", () => {
  const s = {
    direct: scenario(60_000, undefined, {}, { c1p50: 20 }),
    "bun-bare": scenario(30_000, 30, { "bun-bare": 40 }, { c1p50: 60 }),
    "consul-pair": scenario(25_000, 40, { "consul-src": 60, "consul-dst": 55 }, { c1p50: 120 }),
    "sidecar-pair": scenario(10_000, 100, { "sidecar-a": 70, "sidecar-b": 65 }, { c1p50: 300 }),
  };

  test("ratios to bun-bare and consul-pair, for req/s and CPU per 1000 requests", () => {
    expect(versus(s, "sidecar-pair")).toEqual({
      "bun-bare": { rps: 0.333, cpu: 3.333, rps_of_medians: 0.333, cpu_of_medians: 3.333 },
      "consul-pair": { rps: 0.4, cpu: 2.5, rps_of_medians: 0.4, cpu_of_medians: 2.5 },
    });
    expect(versus(s, "consul-pair")["consul-pair"]).toMatchObject({ rps: 1, cpu: 1 });
    // direct has no proxy, so no CPU to compare
    expect(versus(s, "direct")["bun-bare"]).toMatchObject({ rps: 2, cpu: null, cpu_of_medians: null });
  });

  test("only references that ran are compared with", () => {
    expect(Object.keys(versus({ "sidecar-pair": s["sidecar-pair"], "bun-bare": s["bun-bare"] }, "sidecar-pair"))).toEqual(["bun-bare"]);
  });

  test("ratios pair the rounds: the median of per-round ratios, not the ratio of medians from different rounds", () => {
    // The machine slows down in round 2 for both; medians alone would compare 15k (round 1) with 10k (round 2).
    const pair = summarize([round(1, 15_000, 60, {}), round(2, 8_000, 90, {}), round(3, 10_000, 80, {})]);
    const consul = summarize([round(1, 20_000, 40, {}), round(2, 10_000, 60, {}), round(3, 18_000, 45, {})]);
    expect(roundRatios(pair, consul, "rps")).toEqual([0.75, 0.8, 10_000 / 18_000]);
    expect(sameRoundRatio(pair, consul, "rps")).toBe(0.75);
    expect(pair.c64.rps / consul.c64.rps).toBeCloseTo(10_000 / 18_000); // the ratio of medians: 0.56
    const vs = versus({ "sidecar-pair": pair, "consul-pair": consul }, "sidecar-pair")["consul-pair"]!;
    expect(vs).toEqual({ rps: 0.75, cpu: 1.5, rps_of_medians: 0.556, cpu_of_medians: 1.778 });
  });

  test("a round only one side ran is left out; with no common round the ratio of medians stands in", () => {
    const a = summarize([round(1, 1000, 10, {}), round(2, 3000, 10, {})]);
    const b = summarize([round(2, 1000, 10, {})]);
    expect(roundRatios(a, b, "rps")).toEqual([3]);
    const c = summarize([round(7, 500, 10, {})]);
    expect(roundRatios(a, c, "rps")).toEqual([]);
    expect(sameRoundRatio(a, c, "rps")).toBe(4); // median 2000 over 500
  });

  test("added c=1 latency is the scenario's p50 minus direct's, and unknown without direct", () => {
    expect(addedP50Us(s, "consul-pair")).toBe(100);
    expect(addedP50Us(s, "sidecar-pair")).toBe(280);
    expect(addedP50Us(s, "direct")).toBe(0);
    expect(addedP50Us({ "sidecar-pair": s["sidecar-pair"] }, "sidecar-pair")).toBeNull();
  });

  test("added latency per round: what one row adds over direct over what the other adds, rounds matched by number", () => {
    const c1 = (rounds: [number, number][]): ScenarioSummary => summarize(rounds.map(([n, p50]) => ({ ...round(n, 1000, undefined, {}), c1: wrk(5000, { p50 }) })));
    const rows: Summaries = {
      direct: c1([[1, 20], [2, 30], [3, 25]]),
      "consul-pair": c1([[1, 220], [2, 130], [3, 25]]), // adds 200, 100, then nothing
      "sidecar-pair": c1([[1, 320], [2, 280], [3, 200], [4, 300]]), // round 4 has no other row
    };
    expect(addedRoundRatios(rows, "sidecar-pair", "consul-pair")).toEqual([1.5, 2.5]);
    expect(addedRoundRatios({ ...rows, direct: undefined }, "sidecar-pair", "consul-pair")).toEqual([]);
    expect(addedRatio(220, 320, 20)).toBe(1.5);
    expect(addedRatio(20, 320, 20)).toBeUndefined(); // A adds nothing: no ratio
    expect(addedRatio(10, 320, 20)).toBeUndefined();
    expect(addedRatio(undefined, 320, 20)).toBeUndefined();
    expect(addedRatio(220, 10, 20)).toBe(-0.05); // B faster than direct: noise, kept, and it passes any bound
  });

  test("latest.json carries the ratios, the added latency and the largest process per scenario, raw rounds last", () => {
    const json = scenariosJson(s) as Record<string, Record<string, Record<string, unknown>>>;
    const pair = json["sidecar-pair"]!;
    expect(pair.vs).toMatchObject({ "bun-bare": { rps: 0.333, cpu: 3.333 }, "consul-pair": { rps: 0.4, cpu: 2.5 } });
    expect(pair.c1).toMatchObject({ p50_us: 300, added_p50_us: 280 });
    expect(pair.c64).toMatchObject({ rps: 10_000, rss_mb: 135, rss_mb_max_process: 70 });
    expect(Object.keys(pair)).toEqual(["c1", "c64", "vs", "errors", "raw"]);
  });
});
