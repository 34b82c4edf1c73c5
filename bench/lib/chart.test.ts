// Tests the SVG chart of latest.json: well-formed XML, one bar per measured scenario per panel in table order, peers
// coloured apart from the mesh, escaped names, and rows without a value (direct's CPU, skipped or failed scenarios).
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { escapeXml, PEERS, renderChart, type ChartInput } from "./chart.ts";

const LATEST = JSON.parse(readFileSync(join(import.meta.dir, "..", "results", "latest.json"), "utf8")) as ChartInput;

/**
 * A tiny well-formedness check: every tag closes in order, attributes are quoted, and text holds no bare `<` or an
 * `&` that isn't an entity. Returns the element names in document order.
 */
function parseXml(svg: string): string[] {
  const names: string[] = [];
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/y;
  let i = 0;
  while (i < svg.length) {
    const lt = svg.indexOf("<", i);
    const text = svg.slice(i, lt === -1 ? svg.length : lt);
    if (/&(?!(?:amp|lt|gt|quot|apos|#\d+);)/.test(text)) throw new Error(`bare & in text near ${JSON.stringify(text.slice(0, 40))}`);
    if (lt === -1) break;
    tag.lastIndex = lt;
    const m = tag.exec(svg);
    if (!m) throw new Error(`malformed tag at ${lt}: ${JSON.stringify(svg.slice(lt, lt + 60))}`);
    const [, close, name, attrs, selfClose] = m;
    if (/&(?!(?:amp|lt|gt|quot|apos|#\d+);)/.test(attrs!)) throw new Error(`bare & in attributes of <${name}>`);
    if (close) {
      if (stack.pop() !== name) throw new Error(`</${name}> closes the wrong element`);
    } else {
      names.push(name!);
      if (!selfClose) stack.push(name!);
    }
    i = tag.lastIndex;
  }
  if (stack.length > 0) throw new Error(`unclosed: ${stack.join(", ")}`);
  return names;
}

/** The data bars: rects with a tooltip, in document order (panel by panel). */
function bars(svg: string): { fill: string; tip: string }[] {
  return [...svg.matchAll(/<rect [^>]*fill="(#[0-9a-f]{6})"><title>([^<]*)<\/title><\/rect>/g)].map((m) => ({ fill: m[1]!, tip: m[2]! }));
}

test("the XML check itself rejects what a browser would", () => {
  for (const bad of ["<svg><g></svg>", "<svg><text>a & b</text></svg>", "<svg><text>a < b</text></svg>", "<svg width=1/>", "<svg>"]) {
    expect(() => parseXml(bad)).toThrow();
  }
  expect(parseXml('<svg a="1"><g><rect/></g><text>x &amp; y</text></svg>')).toEqual(["svg", "g", "rect", "text"]);
});

test("the committed latest.json: well-formed, one bar per scenario per panel in table order, title with date and machine", () => {
  const svg = renderChart(LATEST);
  const names = parseXml(svg);
  expect(names[0]).toBe("svg");
  expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  const scenarios = Object.keys(LATEST.scenarios!);
  const b = bars(svg);
  // direct has no proxy, so no CPU bar: 3 panels × n scenarios − 1.
  expect(b).toHaveLength(3 * scenarios.length - 1);
  const rpsPanel = b.slice(0, scenarios.length).map((x) => x.tip.split(":")[0]);
  expect(rpsPanel).toEqual(scenarios);
  const cpuPanel = b.slice(scenarios.length, 2 * scenarios.length - 1).map((x) => x.tip.split(":")[0]);
  expect(cpuPanel).toEqual(scenarios.filter((s) => s !== "direct"));
  expect(svg).toContain("no proxy");
  expect(svg).toContain(LATEST.date!.slice(0, 10));
  expect(svg).toContain(LATEST.machine!.model!);
  // direct's req/s as a value label, read from the file (the committed run changes whenever the bench is rerun).
  const direct = (LATEST.scenarios as Record<string, { c64?: { rps?: number } }>).direct?.c64?.rps;
  expect(direct).toBeGreaterThan(0);
  expect(svg).toContain(`>${Math.round(direct!).toLocaleString("en-US")}</text>`);
});

test("peers are coloured apart from the mesh scenarios and from direct", () => {
  const b = bars(renderChart(LATEST));
  const fillOf = (name: string): string => b.find((x) => x.tip.startsWith(`${name}:`))!.fill;
  const peer = fillOf("bun-bare");
  // Every peer the committed run measured (a run from before a peer was added has no row for it).
  const ran = PEERS.filter((p) => b.some((x) => x.tip.startsWith(`${p}:`)));
  expect(ran.length).toBeGreaterThanOrEqual(3);
  for (const p of ran) expect(fillOf(p)).toBe(peer);
  expect(fillOf("sidecar-hop")).not.toBe(peer);
  expect(fillOf("gateway")).toBe(fillOf("sidecar-hop"));
  expect(fillOf("direct")).not.toBe(peer);
  expect(fillOf("direct")).not.toBe(fillOf("sidecar-hop"));
});

test("escapes scenario names and header text", () => {
  expect(escapeXml(`a<b>&"c'`)).toBe("a&lt;b&gt;&amp;&quot;c&apos;");
  const svg = renderChart({
    date: "2026-01-01T00:00:00.000Z",
    machine: { model: "Intel <R> & co", cpus: 4 },
    scenarios: { "x<y>&z": { c1: { p50_us: 10, p99_us: 20, added_p50_us: 5 }, c64: { rps: 100, p99_us: 1, cpu_ms_per_1k: 2 }, errors: 0 } },
  });
  parseXml(svg);
  expect(svg).toContain("x&lt;y&gt;&amp;z");
  expect(svg).toContain("Intel &lt;R&gt; &amp; co");
  expect(svg).not.toContain("x<y>");
});

test("missing values, skipped and failed scenarios: no bar, a word instead, rows stay in SCENARIOS order", () => {
  const svg = renderChart({
    scenarios: {
      direct: { c1: { p50_us: 50, p99_us: 90, added_p50_us: 0 }, c64: { rps: 1000, p99_us: 1, cpu_ms_per_1k: null }, errors: 0 },
      // NaN medians are written as null in JSON; a negative added p50 (noise) gets a label but no width.
      "sidecar-hop": { c1: { p50_us: 40, p99_us: null, added_p50_us: -10 }, c64: { rps: null, p99_us: null, cpu_ms_per_1k: 30 }, errors: 3 },
      gateway: { c1: {}, c64: {} },
    },
    skipped: { "consul-pair": "consul not installed" },
    setup_errors: { nginx: "nginx: exited" },
  });
  const names = parseXml(svg);
  expect(names.filter((n) => n === "svg")).toHaveLength(1);
  const b = bars(svg);
  // direct: rps + added; sidecar-hop: cpu + added (−10, zero width); gateway: nothing.
  expect(b.map((x) => x.tip)).toEqual(["direct: 1,000", "sidecar-hop: 30.0", "direct: +0", "sidecar-hop: -10"]);
  expect(svg).toMatch(/<rect [^>]*width="0\.0"[^>]*><title>sidecar-hop: -10<\/title>/);
  expect((svg.match(/>skipped</g) ?? []).length).toBe(3);
  expect((svg.match(/>failed</g) ?? []).length).toBe(3);
  expect(svg).toContain("sidecar-hop (3 errors)");
  // Row labels in SCENARIOS order: direct, nginx, consul-pair, sidecar-hop, gateway.
  const rowNames = [...svg.matchAll(/<text [^>]*text-anchor="end"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
  expect(rowNames).toEqual(["direct", "nginx", "consul-pair", "sidecar-hop (3 errors)", "gateway"]);
  expect(svg).not.toContain("NaN");
  expect(svg).not.toContain("undefined");
});

test("an empty or nearly empty input still renders a valid SVG", () => {
  for (const input of [{}, { scenarios: {} }, { scenarios: { direct: null } }] as ChartInput[]) {
    const svg = renderChart(input);
    expect(parseXml(svg)[0]).toBe("svg");
    expect(svg).not.toContain("NaN");
    expect(svg).not.toContain("undefined");
  }
});
