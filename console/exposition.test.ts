// The console's reader of the Prometheus text format, against prom-client's own output and hostile lines.
import { expect, test } from "bun:test";
import { Registry, Counter, Histogram } from "prom-client";
import { parseExposition } from "./exposition.ts";

test("reads what prom-client renders: counters, histogram buckets with +Inf, escaped label values", async () => {
  const registry = new Registry();
  const c = new Counter({ name: "mesh_requests_total", help: "h", labelNames: ["side", "odd"], registers: [registry] });
  c.inc({ side: "outbound", odd: 'a"b\\c\nd' }, 3);
  const h = new Histogram({ name: "d_seconds", help: "h", buckets: [0.1, 1], registers: [registry] });
  h.observe(0.05);
  h.observe(5);
  const samples = parseExposition(await registry.metrics());
  expect(samples).toContainEqual({ name: "mesh_requests_total", labels: { side: "outbound", odd: 'a"b\\c\nd' }, value: 3 });
  expect(samples).toContainEqual({ name: "d_seconds_bucket", labels: { le: "0.1" }, value: 1 });
  expect(samples).toContainEqual({ name: "d_seconds_bucket", labels: { le: "+Inf" }, value: 2 });
  expect(samples).toContainEqual({ name: "d_seconds_count", labels: {}, value: 2 });
});

test("skips comments, blanks and lines that are not samples; keeps the rest", () => {
  const text = ["# HELP x y", "", "x 1", "broken{a=1} 2", 'open{a="x 3', "novalue{}", "y{} NaN", "z +Inf 1700000000"].join("\n");
  const s = parseExposition(text);
  expect(s.map((x) => x.name)).toEqual(["x", "y", "z"]);
  expect(s[1]!.value).toBeNaN();
  expect(s[2]!.value).toBe(Infinity);
});
