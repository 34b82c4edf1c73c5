// The tables bench/ab.ts prints after its paired rounds: CPU and req/s under c=64 load, or (--c1) the c=1 latency
// each side adds over `direct`, every B/A both as the ratio of the medians and as the median of per-round ratios.
import { pairedOf, sidesOf, spreadOf, type Comparison } from "./paired.ts";
import { addedRatios, medianAdded, signedUs } from "./report.ts";
import { median } from "./stats.ts";

const width = (comparisons: readonly Comparison[]): number => Math.max(14, ...comparisons.flatMap(sidesOf).map((s) => s.name.length + 5));

/** c=64 rounds: CPU-ms per 1000 requests and req/s per side, B over A, and each side's RSS. */
export function loadTable(comparisons: readonly Comparison[]): string {
  const w = width(comparisons);
  const lines = [`${"side".padEnd(w)} CPU-ms/1k median (min)   req/s median   B/A CPU   B/A req/s   B/A CPU paired (range)   B/A req/s paired (range)   RSS MB under load / since start (medians)`];
  for (const { title, a, b } of comparisons) {
    lines.push(title);
    for (const s of [a, b]) {
      const ratios = s === b
        ? `${(median(b.cpu) / median(a.cpu)).toFixed(3)}     ${(median(b.rps) / median(a.rps)).toFixed(3)}       ${spreadOf(pairedOf(a.cpu, b.cpu)).padEnd(24)} ${spreadOf(pairedOf(a.rps, b.rps)).padEnd(26)}`
        : "".padEnd(88);
      lines.push(`${`${s.label} ${s.name}`.padEnd(w)} ${median(s.cpu).toFixed(1).padStart(8)} (${Math.min(...s.cpu).toFixed(1)})${"".padEnd(8)} ${median(s.rps).toFixed(0).padStart(8)}       ${ratios} ${median(s.rss).toFixed(1)} / ${median(s.hwm).toFixed(1)}`);
    }
  }
  return lines.join("\n");
}

/**
 * c=1 rounds (every comparison with a base): each side's p50, what it adds over the base, and what B adds over what A
 * adds. A round where A adds nothing has no ratio; "-" when no round has one.
 */
export function latencyTable(comparisons: readonly Comparison[]): string {
  const w = width(comparisons);
  const lines = [`${"side".padEnd(w)} c=1 p50 µs (median)   added µs (median)   B/A added, of medians   B/A added paired (range)`];
  for (const { title, a, b, base } of comparisons) {
    if (base === undefined) continue;
    lines.push(title);
    const [xa, xb] = [medianAdded(a.c1, base.c1), medianAdded(b.c1, base.c1)];
    const paired = addedRatios(a.c1, b.c1, base.c1);
    for (const s of [base, a, b]) {
      const add = s === base ? "" : signedUs(s === a ? xa : xb);
      const ratios = s === b ? `${(xa > 0 ? (xb / xa).toFixed(3) : "-").padEnd(23)} ${paired.length > 0 ? spreadOf(paired) : "-"}` : "";
      lines.push(`${`${s.label} ${s.name}`.padEnd(w)} ${median(s.c1).toFixed(0).padStart(8)}${"".padEnd(14)}${add.padStart(8)}${"".padEnd(12)}${ratios}`.trimEnd());
    }
  }
  return lines.join("\n");
}
