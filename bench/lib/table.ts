// Renders the bench's console tables: absolute numbers per scenario, then ratios to the references of the same run.
// Two tables instead of one so each stays narrower than a terminal.
import { addedP50Us, maxProcessAnonMb, maxProcessRssMb, REFERENCES, versus, type Summaries } from "./report.ts";
import type { ScenarioName } from "./args.ts";

const fmt = (n: number | null | undefined, digits = 0): string =>
  n === null || n === undefined || !Number.isFinite(n) ? "-" : n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

const signed = (n: number | null): string => (n === null ? "-" : `${n >= 0 ? "+" : ""}${fmt(n)}`);

/** Left-aligned first column, right-aligned numbers, a dashed rule under the header. */
export function grid(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

export function absoluteTable(s: Summaries): string {
  const head = ["scenario", "c1 p50 µs", "c1 added µs", "c1 p99 µs", "c64 req/s", "c64 p99 µs", "CPU-ms/1k", "RSS MB", "max proc MB", "its anon MB", "errors"];
  const rows = Object.entries(s).map(([name, v]) => [
    name,
    fmt(v.c1.p50_us),
    signed(addedP50Us(s, name as ScenarioName)),
    fmt(v.c1.p99_us),
    fmt(v.c64.rps),
    fmt(v.c64.p99_us),
    fmt(v.c64.cpu_ms_per_1k, 1),
    fmt(v.c64.rss_mb, 1),
    fmt(maxProcessRssMb(v), 1),
    fmt(maxProcessAnonMb(v), 1),
    String(v.errors),
  ]);
  return grid(head, rows);
}

/**
 * Ratios to each reference that ran (a column pair per reference); empty when none ran. Each is the median of the
 * per-round ratios, as the targets read them.
 */
export function ratioTable(s: Summaries): string {
  const refs = REFERENCES.filter((r) => s[r] !== undefined);
  if (refs.length === 0) return "";
  const head = ["scenario", ...refs.flatMap((r) => [`req/s vs ${r}`, `CPU vs ${r}`])];
  const rows = Object.keys(s).map((name) => {
    const vs = versus(s, name as ScenarioName);
    return [name, ...refs.flatMap((r) => [fmt(vs[r]?.rps, 2), fmt(vs[r]?.cpu, 2)])];
  });
  return `${grid(head, rows)}\n(median of the per-round ratios; latest.json also has the ratio of the medians)`;
}

export function renderTable(s: Summaries): string {
  return [absoluteTable(s), ratioTable(s)].filter((t) => t !== "").join("\n\n");
}
