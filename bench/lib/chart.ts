// Renders latest.json as bench/results/latest.svg: c=64 req/s, CPU-ms per 1000 requests and c=1 added p50 as three
// horizontal bar charts side by side, one row per scenario. Pure (data in, SVG text out), unit-tested in chart.test.ts.
import { SCENARIOS } from "./args.ts";

// Hand-written SVG rather than a chart library: none is in the dependencies, and a static SVG of a few dozen elements
// needs none — it opens in any browser and diffs as text next to latest.json.

/** The parts of latest.json the chart reads; everything optional because it is parsed JSON (and may be from an older run). */
export type ChartInput = {
  readonly date?: string;
  readonly machine?: { readonly cpus?: number; readonly model?: string; readonly bun?: string; readonly pinned?: boolean };
  readonly quick?: boolean;
  readonly rounds?: number;
  readonly access_log?: boolean;
  readonly scenarios?: Readonly<Record<string, unknown>>;
  readonly skipped?: Readonly<Record<string, string>>;
  readonly setup_errors?: Readonly<Record<string, string>>;
};

/** The comparison processes measured in the same rounds; drawn in their own colour. */
export const PEERS: readonly string[] = ["bun-bare", "nginx", "consul-pair", "bun-l7-pair", "bun-l4-pair"];

type Panel = { readonly title: string; readonly path: readonly string[]; readonly format: (n: number) => string };
const PANELS: readonly Panel[] = [
  { title: "c=64 requests/s (higher is better)", path: ["c64", "rps"], format: (n) => group(n, 0) },
  { title: "CPU-ms per 1000 requests (lower is better)", path: ["c64", "cpu_ms_per_1k"], format: (n) => group(n, 1) },
  { title: "c=1 added p50 µs (lower is better)", path: ["c1", "added_p50_us"], format: (n) => `${n >= 0 ? "+" : ""}${group(n, 0)}` },
];

const COLOURS = { direct: "#9e9e9e", peer: "#e08a2c", mesh: "#2f6db5" } as const;

// Layout in px.
const NAME_W = 190;
const PANEL_W = 300;
const LABEL_ROOM = 62; // right of the longest bar, for its value label
const GAP = 24;
const ROW_H = 20;
const BAR_H = 14;
const TOP = 92;
const MARGIN = 16;

function group(n: number, digits: number): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!);
}

/** A finite number at `path` inside `x`, or null (missing, null, NaN serialized as null, wrong type). */
function numberAt(x: unknown, path: readonly string[]): number | null {
  let cur: unknown = x;
  for (const k of path) {
    if (typeof cur !== "object" || cur === null) return null;
    cur = (cur as Record<string, unknown>)[k];
  }
  return typeof cur === "number" && Number.isFinite(cur) ? cur : null;
}

type Row = { readonly name: string; readonly data: unknown; readonly missing?: "skipped" | "failed" };

/** Measured scenarios in their table order, with skipped and failed ones slotted in at their place in SCENARIOS. */
function rows(latest: ChartInput): Row[] {
  const measured = latest.scenarios ?? {};
  const all = new Map<string, Row>();
  for (const [name, data] of Object.entries(measured)) all.set(name, { name, data });
  for (const name of Object.keys(latest.skipped ?? {})) if (!all.has(name)) all.set(name, { name, data: undefined, missing: "skipped" });
  for (const name of Object.keys(latest.setup_errors ?? {})) if (!all.has(name)) all.set(name, { name, data: undefined, missing: "failed" });
  const rank = (n: string): number => {
    const i = (SCENARIOS as readonly string[]).indexOf(n);
    return i === -1 ? SCENARIOS.length : i;
  };
  // Stable sort: measured scenarios keep the table's order; names unknown to SCENARIOS go last in their given order.
  return [...all.values()].sort((a, b) => rank(a.name) - rank(b.name));
}

function colour(name: string): string {
  return name === "direct" ? COLOURS.direct : PEERS.includes(name) ? COLOURS.peer : COLOURS.mesh;
}

function subtitle(latest: ChartInput): string {
  const m = latest.machine ?? {};
  const when = latest.date ? `${latest.date.slice(0, 16).replace("T", " ")} UTC` : "date unknown";
  const machine = [m.model, m.cpus !== undefined ? `${m.cpus} CPUs` : undefined, m.bun ? `Bun ${m.bun}` : undefined, m.pinned === undefined ? undefined : m.pinned ? "pinned" : "not pinned"]
    .filter((x) => x !== undefined)
    .join(", ");
  const mode = [latest.quick === undefined ? undefined : latest.quick ? "--quick" : "full", latest.rounds !== undefined ? `${latest.rounds} rounds` : undefined, latest.access_log === false ? "access log off" : undefined]
    .filter((x) => x !== undefined)
    .join(", ");
  return [when, machine || "machine unknown", mode].filter((x) => x !== "").join(" · ");
}

function footnote(latest: ChartInput): string {
  const pinned = latest.machine?.pinned === true ? " Proxies pinned to one CPU at c=64, so req/s ≈ 1000 / CPU-ms per 1000 requests." : "";
  return `Medians over the rounds.${pinned} Numbers: bench/results/latest.json; how to read them: bench/README.md.`;
}

export function renderChart(latest: ChartInput): string {
  const list = rows(latest);
  const width = MARGIN * 2 + NAME_W + PANELS.length * PANEL_W + (PANELS.length - 1) * GAP;
  const height = TOP + Math.max(list.length, 1) * ROW_H + 40;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">`,
    `<title>mesh bench: ${escapeXml(subtitle(latest))}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${MARGIN}" y="26" font-size="17" font-weight="600">What one mesh hop costs: npm run bench</text>`,
    `<text x="${MARGIN}" y="46" fill="#555555">${escapeXml(subtitle(latest))}</text>`,
  );
  // Legend.
  const legend: [string, string][] = [["direct (no proxy)", COLOURS.direct], ["peers: bun-bare, nginx, consul-pair, bun-l7-pair, bun-l4-pair", COLOURS.peer], ["our mesh", COLOURS.mesh]];
  let lx = MARGIN + NAME_W;
  for (const [label, fill] of legend) {
    out.push(`<rect x="${lx}" y="55" width="10" height="10" fill="${fill}"/>`, `<text x="${lx + 14}" y="64" fill="#333333">${escapeXml(label)}</text>`);
    lx += 28 + label.length * 6.5;
  }
  // Scenario names, once, shared by the three panels.
  list.forEach((r, i) => {
    const y = TOP + i * ROW_H + ROW_H / 2 + 4;
    const errors = numberAt(r.data, ["errors"]) ?? 0;
    const label = errors > 0 ? `${r.name} (${errors} errors)` : r.name;
    out.push(`<text x="${MARGIN + NAME_W - 8}" y="${y}" text-anchor="end"${errors > 0 ? ' fill="#c62828"' : ""}>${escapeXml(label)}</text>`);
  });
  PANELS.forEach((p, pi) => {
    const x0 = MARGIN + NAME_W + pi * (PANEL_W + GAP);
    const values = list.map((r) => numberAt(r.data, p.path));
    const max = Math.max(0, ...values.filter((v): v is number => v !== null));
    const scale = max > 0 ? (PANEL_W - LABEL_ROOM) / max : 0;
    out.push(
      `<text x="${x0}" y="${TOP - 8}" font-weight="600">${escapeXml(p.title)}</text>`,
      `<line x1="${x0}" y1="${TOP}" x2="${x0}" y2="${TOP + list.length * ROW_H}" stroke="#bbbbbb"/>`,
    );
    list.forEach((r, i) => {
      const v = values[i]!;
      const yBar = TOP + i * ROW_H + (ROW_H - BAR_H) / 2;
      const yText = TOP + i * ROW_H + ROW_H / 2 + 4;
      if (v === null) {
        // Skipped or failed at setup, or no value (direct has no proxy CPU): no bar, say why.
        const why = r.missing ?? (r.name === "direct" ? "no proxy" : "n/a");
        out.push(`<text x="${x0 + 4}" y="${yText}" fill="#888888" font-style="italic">${why}</text>`);
        return;
      }
      // Negative values (c=1 noise below direct) get no bar, only their label.
      const w = Math.max(0, v * scale);
      out.push(
        `<rect x="${x0}" y="${yBar}" width="${w.toFixed(1)}" height="${BAR_H}" fill="${colour(r.name)}"><title>${escapeXml(`${r.name}: ${p.format(v)}`)}</title></rect>`,
        `<text x="${(x0 + w + 4).toFixed(1)}" y="${yText}" fill="#222222">${escapeXml(p.format(v))}</text>`,
      );
    });
  });
  const foot = TOP + list.length * ROW_H + 24;
  out.push(
    `<text x="${MARGIN}" y="${foot}" fill="#777777" font-size="11">${escapeXml(footnote(latest))}</text>`,
    `</svg>`,
  );
  return out.join("\n") + "\n";
}
