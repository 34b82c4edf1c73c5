// Shared setup of bench/run.ts and bench/profile.ts: CPU pinning, the upstream, the scenario env, a probe.
// One place decides which CPU runs what, so measurements and profiles see the same layout.
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import type { ProcessSet } from "./proc.ts";
import { startCa, type ScenarioEnv, type Target } from "./scenarios.ts";

export const REPO = dirname(dirname(import.meta.dir));

export type Pinning = { ncpu: number; pinned: boolean; pinProxy: string[]; pinLoad: string[]; note: string };

export function detectPinning(): Pinning {
  const ncpu = cpus().length;
  const pinned = ncpu >= 2 && Bun.which("taskset") !== null;
  if (!pinned) {
    const why = ncpu >= 2 ? "taskset missing" : "1 CPU";
    return { ncpu, pinned, pinProxy: [], pinLoad: [], note: `${ncpu} CPU(s), ${why}: no CPU pinning, proxies and load share CPUs (numbers are noisier)` };
  }
  // Keep the runner's own /proc sampling off the proxies' CPU (-a: every thread).
  Bun.spawnSync(["taskset", "-a", "-pc", "1", String(process.pid)], { stdout: "ignore", stderr: "ignore" });
  return { ncpu, pinned, pinProxy: ["taskset", "-c", "0"], pinLoad: ["taskset", "-c", "1"], note: `${ncpu} CPUs: proxies pinned to CPU 0; wrk, upstream, CA and this runner to CPU 1` };
}

/** Starts the upstream and returns the env every scenario setup needs (the CA starts on first use). */
export async function startEnv(set: ProcessSet, tmp: string, pin: Pinning, opts: { accessLog?: boolean; runtimeFlags?: ScenarioEnv["runtimeFlags"] } = {}): Promise<ScenarioEnv> {
  const upstream = set.spawn("upstream", [...pin.pinLoad, process.execPath, join(REPO, "bench/upstream.ts"), "--port", "0"]);
  const ready = await set.waitReady(upstream);
  const base = { set, repo: REPO, bun: process.execPath, tmp, pinProxy: pin.pinProxy, pinLoad: pin.pinLoad, upstreamPort: Number(ready.port), accessLog: opts.accessLog ?? true, runtimeFlags: opts.runtimeFlags };
  let ca: ReturnType<typeof startCa> | undefined;
  return { ...base, ca: () => (ca ??= startCa(base)) };
}

/** One request through the scenario before any load: a misrouted 502 must fail setup, not be benchmarked. */
export async function probe(name: string, t: Target): Promise<void> {
  const res = await fetch(t.url, { headers: t.host ? { host: t.host } : {}, signal: AbortSignal.timeout(5000) });
  const body = await res.text();
  if (res.status !== 200 || !body.includes('"ok"')) throw new Error(`${name}: probe answered ${res.status} ${body.slice(0, 200)}`);
}

export function cpuTimes(): { busy: number; total: number } {
  const f = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/).slice(1).map(Number);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** Percent of all CPUs busy over `ms`: other work on the machine skews every number, so the runner warns. */
export async function machineBusyPct(ms = 1000): Promise<number> {
  const a = cpuTimes();
  await Bun.sleep(ms);
  const b = cpuTimes();
  return b.total > a.total ? (100 * (b.busy - a.busy)) / (b.total - a.total) : 0;
}

/**
 * Share of the machine (percent of all CPUs) used by processes that are not ours between two cpuTimes()
 * readings: the runner's own tree (proxies, upstream, wrk) is subtracted. Softirq work is not always charged
 * to a process, so a few percent is normal.
 */
export function foreignCpuPct(a: { busy: number; total: number }, b: { busy: number; total: number }, ourMs: number, ticksPerS: number): number {
  if (b.total <= a.total) return 0;
  const busyMs = ((b.busy - a.busy) * 1000) / ticksPerS;
  const totalMs = ((b.total - a.total) * 1000) / ticksPerS;
  return Math.max(0, (100 * (busyMs - ourMs)) / totalMs);
}

export function cpuModel(): string {
  return /^model name\s*:\s*(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "unknown";
}
