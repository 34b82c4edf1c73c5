// Tests summarizing rounds and evaluating the bench targets (PASS/MISS/SKIP) on synthetic rounds.
// Failed responses must turn a would-be PASS into a MISS.
import { describe, expect, test } from "bun:test";
import { evaluateTargets, failedResponses, renderTable, summarize, type RoundResult } from "./report.ts";
import type { WrkResult } from "./wrk.ts";

const wrk = (rps: number, p99 = 1000, non2xx = 0): WrkResult => ({
  requests: rps * 10, seconds: 10, rps, p50_us: 100, p75_us: 200, p90_us: 300, p99_us: p99, non2xx, socketErrors: 0,
});
const round = (n: number, rps: number, cpu: number | undefined, rss: Record<string, number>, non2xx = 0): RoundResult => ({
  round: n, c1: wrk(5000), c64: wrk(rps, 1000, non2xx), cpu_ms_per_1k: cpu, rss_mb: rss,
});

describe("summarize", () => {
  test("takes medians over rounds and the max RSS per process", () => {
    const s = summarize([round(1, 100, 10, { a: 30, b: 20 }), round(2, 300, 30, { a: 40, b: 10 }), round(3, 200, 20, { a: 35, b: 15 })]);
    expect(s.c64.rps).toBe(200);
    expect(s.c64.cpu_ms_per_1k).toBe(20);
    expect(s.c64.rss_mb).toBe(50); // sums 50, 50, 50
    expect(s.c64.rss_mb_per_process).toEqual({ a: 40, b: 20 });
    expect(s.errors).toBe(0);
  });

  test("a scenario without proxies has no CPU or RSS", () => {
    const s = summarize([round(1, 100, undefined, {})]);
    expect(s.c64.cpu_ms_per_1k).toBeNull();
    expect(s.c64.rss_mb).toBeNull();
  });
});

describe("evaluateTargets", () => {
  const bare = summarize([round(1, 1000, 40, { "bun-bare": 38 })]);

  test("passes and misses on the ratios to bun-bare and the sidecar RSS limit", () => {
    const t = evaluateTargets({
      "bun-bare": bare,
      "sidecar-hop": summarize([round(1, 950, 50, { sidecar: 45 })]),
      "sidecar-pair": summarize([round(1, 300, 90, { "sidecar-a": 50, "sidecar-b": 61 })]),
    });
    expect(t.map((x) => x.status)).toEqual(["PASS", "MISS", "MISS", "SKIP", "SKIP", "SKIP", "SKIP", "MISS"]);
    expect(t[1]!.detail).toContain("1.25x");
    expect(t[7]!.detail).toBe("sidecar-pair/sidecar-b 61.0 MB");
  });

  test("failed responses turn a fast result into a MISS", () => {
    const t = evaluateTargets({ "bun-bare": bare, "sidecar-hop": summarize([round(1, 5000, 5, { sidecar: 30 }, 12)]) });
    expect(t[0]!.status).toBe("MISS");
    expect(t[0]!.detail).toContain("12 failed responses");
  });

  test("skips targets whose scenarios did not run", () => {
    expect(evaluateTargets({ "bun-bare": bare }).map((x) => x.status)).toEqual(["SKIP", "SKIP", "SKIP", "SKIP", "SKIP", "SKIP", "SKIP", "SKIP"]);
  });

  test("observability and idle policies are compared with their own reference scenarios", () => {
    const t = evaluateTargets({
      "sidecar-hop-dark": summarize([round(1, 1000, 100, { sidecar: 40 })]),
      "sidecar-hop": summarize([round(1, 1000, 104, { sidecar: 40 })]),
      "sidecar-hop-policies": summarize([round(1, 1000, 115, { sidecar: 40 })]),
    });
    expect(t[3]).toEqual({ name: "sidecar-hop cpu_ms_per_1k <= 1.05x sidecar-hop-dark", status: "PASS", detail: "1.04x sidecar-hop-dark, target <= 1.05x" });
    expect(t[5]!.status).toBe("MISS");
    expect(t[5]!.detail).toBe("1.11x sidecar-hop, target <= 1.1x");
    expect(t[6]).toEqual({ name: "sidecar-hop peak RSS <= sidecar-hop-dark + 5 MB", status: "PASS", detail: "+0.0 MB (40.0 vs 40.0 MB), budget +5 MB" });
  });
});

test("renderTable prints one row per scenario with ratios to bun-bare", () => {
  const text = renderTable({ direct: summarize([round(1, 2000, undefined, {})]), "bun-bare": summarize([round(1, 1000, 40, { "bun-bare": 38 })]) });
  const lines = text.split("\n");
  expect(lines).toHaveLength(4);
  expect(lines[2]).toMatch(/^direct\s.*2,000\s.*2\.00/);
  expect(lines[3]).toMatch(/^bun-bare\s.*40\.0\s+38\.0\s+1\.00\s+1\.00\s+0$/);
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
