// The scenario's results as the table run.ts prints (step, requests sent, failed, duration, notes), and the first
// failure samples under it; the e2e test prints the same table.
import { seconds, type StepResult } from "./step.ts";

export function resultTable(results: readonly StepResult[]): string {
  const rows = [["#", "step", "sent", "failed", "duration", "notes"]];
  results.forEach((r, i) => rows.push([
    String(i), r.step, String(r.sent), String(r.failed), r.skipped !== undefined ? "-" : seconds(r.durationMs),
    r.skipped !== undefined ? `SKIPPED: ${r.skipped}` : r.notes.join("; "),
  ]));
  const widths = rows[0]!.slice(0, 5).map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  return rows.map((row) => row.map((cell, col) => (col < 5 ? cell.padEnd(widths[col]!) : cell)).join("  ")).join("\n");
}

export function failureSamples(results: readonly StepResult[], perStep = 5): string[] {
  return results.flatMap((r) => r.samples.slice(0, perStep).map((s) => `${r.step} failure at +${s.at} ms ${s.path}: ${s.error}`));
}
