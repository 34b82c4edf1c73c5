// Tests the tables bench/ab.ts prints after paired rounds, on synthetic sides: the c=1 table's added latency and
// B/A ratios (of the medians, and per round with rounds where A adds nothing left out), and the load table's ratios.
import { expect, test } from "bun:test";
import { side, type Comparison, type Side } from "./paired.ts";
import { latencyTable, loadTable } from "./paired-table.ts";

const withFigures = (s: Side, f: { c1?: number[]; cpu?: number[]; rps?: number[]; rss?: number[] }): Side => {
  for (const k of ["c1", "cpu", "rps", "rss"] as const) s[k].push(...(f[k] ?? []));
  s.hwm.push(...(f.rss ?? []));
  return s;
};

test("the c=1 table: each side's p50, what it adds over direct, and B's added latency over A's", () => {
  const c: Comparison = {
    title: "sidecar-pair vs consul-pair",
    a: withFigures(side("A", "/r", "consul-pair"), { c1: [250, 270, 140] }), // adds 120, 140, 0
    b: withFigures(side("B", "/r", "sidecar-pair"), { c1: [310, 300, 300] }), // adds 180, 170, 160
    base: withFigures(side("base", "/r", "direct"), { c1: [130, 130, 140] }),
  };
  const lines = latencyTable([c]).split("\n");
  expect(lines[1]).toBe("sidecar-pair vs consul-pair");
  expect(lines[2]).toMatch(/^base direct +130$/);
  expect(lines[3]).toMatch(/^A consul-pair +250 +\+120$/);
  // Medians +170 over +120: 1.417; per round 1.5 and 1.214 (the third, where A adds nothing, has no ratio).
  expect(lines[4]).toMatch(/^B sidecar-pair +300 +\+170 +1\.417 +1\.357 \(1\.21–1\.50\)$/);
  expect(latencyTable([{ ...c, base: undefined }])).toBe(lines[0]!); // no base, nothing to say
});

test("the load table: B over A for CPU and req/s, of the medians and paired", () => {
  const c: Comparison = {
    title: "sidecar-pair vs sidecar-pair-dark",
    a: withFigures(side("A", "/r", "sidecar-pair-dark"), { cpu: [60, 62], rps: [10_000, 9_000], rss: [70, 72] }),
    b: withFigures(side("B", "/r", "sidecar-pair"), { cpu: [63, 62], rps: [9_500, 9_000], rss: [71, 73] }),
  };
  const lines = loadTable([c]).split("\n");
  expect(lines[2]).toMatch(/^A sidecar-pair-dark +61\.0 \(60\.0\) +9500 +71\.0 \/ 71\.0$/);
  expect(lines[3]).toMatch(/^B sidecar-pair +62\.5 \(62\.0\) +9250 +1\.025 +0\.974 +1\.025 \(1\.00–1\.05\) +0\.975 \(0\.95–1\.00\) +72\.0 \/ 72\.0$/);
});
