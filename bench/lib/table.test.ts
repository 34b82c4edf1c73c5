// Tests the console tables: one row per scenario, the added c=1 latency and largest process in the first table,
// ratio columns only for the references (bun-bare, consul-pair) that ran.
import { expect, test } from "bun:test";
import { renderTable } from "./table.ts";
import { scenario } from "./test-rounds.ts";

test("absolute table: added latency over direct, summed and largest-process RSS", () => {
  const text = renderTable({ direct: scenario(2000, undefined, {}, { c1p50: 20 }), "bun-bare": scenario(1000, 40, { "bun-bare": 38 }, { c1p50: 80 }) });
  const [abs, ratios] = text.split("\n\n");
  const lines = abs!.split("\n");
  expect(lines).toHaveLength(4);
  expect(lines[0]).toMatch(/^scenario\s+c1 p50 µs\s+c1 added µs\s+c1 p99 µs\s+c64 req\/s\s+c64 p99 µs\s+CPU-ms\/1k\s+RSS MB\s+max proc MB\s+its anon MB\s+errors$/);
  expect(lines[2]).toMatch(/^direct\s+20\s+\+0\s.*2,000\s.*-\s+-\s+-\s+-\s+0$/);
  // No anonymous memory was sampled in this fixture.
  expect(lines[3]).toMatch(/^bun-bare\s+80\s+\+60\s.*40\.0\s+38\.0\s+38\.0\s+-\s+0$/);
  // Only bun-bare ran, so only its ratio columns.
  expect(ratios!.split("\n")[0]).toMatch(/^scenario\s+req\/s vs bun-bare\s+CPU vs bun-bare$/);
  expect(ratios!.split("\n")[2]).toMatch(/^direct\s+2\.00\s+-$/);
});

test("ratio table: a column pair per reference that ran", () => {
  const text = renderTable({
    "bun-bare": scenario(1000, 40, { "bun-bare": 38 }),
    "consul-pair": scenario(800, 50, { "consul-src": 60, "consul-dst": 55 }),
    "sidecar-pair": scenario(400, 100, { "sidecar-a": 50, "sidecar-b": 45 }),
  });
  const ratios = text.split("\n\n")[1]!.split("\n");
  expect(ratios[0]).toMatch(/req\/s vs bun-bare\s+CPU vs bun-bare\s+req\/s vs consul-pair\s+CPU vs consul-pair$/);
  expect(ratios[4]).toMatch(/^sidecar-pair\s+0\.40\s+2\.50\s+0\.50\s+2\.00$/);
  // RSS: summed and the largest single process.
  expect(text.split("\n")[3]).toMatch(/115\.0\s+60\.0\s+-\s+0$/);
  expect(text.split("\n").at(-1)).toBe("(median of the per-round ratios; latest.json also has the ratio of the medians)");
});

test("no reference ran: only the absolute table", () => {
  expect(renderTable({ direct: scenario(2000, undefined, {}) }).split("\n")).toHaveLength(3);
});
