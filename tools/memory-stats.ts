// Small helpers the memory tools share: a process's resident and peak memory from /proc, the median of a few runs,
// and an entry point's imports. Linux only (the machines this mesh is measured on); values in MB.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";

/**
 * VmRSS (resident now), VmHWM (the peak resident size since the process started) and RssAnon (the resident pages
 * that are the process's own; the rest of RSS is mapped files, mostly the runtime's binary, shared), in MB.
 */
export function procMemoryMb(pid: number): { rss: number; hwm: number; anon: number } {
  const text = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? Number.NaN);
  return { rss: kb("VmRSS") / 1024, hwm: kb("VmHWM") / 1024, anon: kb("RssAnon") / 1024 };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The value imports of an entry point (type-only ones are erased), relative ones resolved; its own code is not run. */
export function valueImports(entry: string): string[] {
  const out: string[] = [];
  for (const m of readFileSync(entry, "utf8").matchAll(/^import\s+(?!type\s)(?:[^"';]*?\sfrom\s*)?["']([^"']+)["'];?/gm)) {
    const spec = m[1]!;
    out.push(spec.startsWith(".") ? resolve(dirname(entry), spec) : spec);
  }
  return out;
}
