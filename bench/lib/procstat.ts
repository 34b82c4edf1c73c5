// Reads CPU time and resident memory of benchmarked processes from /proc (Linux only).
// CPU counts the whole process tree so a proxy that forks workers cannot hide their cost.
import { readFileSync, readdirSync } from "node:fs";
import { spawnSync } from "node:child_process";

export const CLOCK_TICKS_PER_S = ((): number => {
  const r = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
  const n = Number(r.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

export type StatFields = { ppid: number; utime: number; stime: number; cutime: number; cstime: number };

/** Parses /proc/<pid>/stat; the command name may hold spaces and parentheses, so split after the last ')'. */
export function parseStat(text: string): StatFields {
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state); field N is rest[N - 3].
  const f = (n: number): number => Number(rest[n - 3]);
  return { ppid: f(4), utime: f(14), stime: f(15), cutime: f(16), cstime: f(17) };
}

function readStat(pid: number): StatFields | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined; // the process is gone
  }
}

/** `pid` and every live descendant. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    const child = Number(name);
    if (!Number.isInteger(child)) continue;
    const st = readStat(child);
    if (!st) continue;
    const list = children.get(st.ppid) ?? [];
    list.push(child);
    children.set(st.ppid, list);
  }
  const out: number[] = [];
  const todo = [pid];
  while (todo.length > 0) {
    const p = todo.pop()!;
    out.push(p);
    todo.push(...(children.get(p) ?? []));
  }
  return out;
}

/** CPU milliseconds used so far by `pid`'s tree (own + reaped children). */
export function cpuMs(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    const st = readStat(p);
    if (st) ticks += st.utime + st.stime + st.cutime + st.cstime;
  }
  return (ticks * 1000) / CLOCK_TICKS_PER_S;
}

export function parseVmRssKb(status: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) : 0;
}

/** VmHWM: the most the process has had resident since it started (the kernel's own peak, between samples too). */
export function parseVmHwmKb(status: string): number {
  const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) : 0;
}

/** `pid`'s own peak RSS in kB (0 once it has exited). */
export function peakRssKb(pid: number): number {
  try {
    return parseVmHwmKb(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return 0;
  }
}

/**
 * RssAnon: the resident pages that are the process's own (heap, stacks, JIT code), as opposed to mapped files such as
 * the runtime's binary, which every process running it shares and the kernel can drop and read back.
 */
export function parseRssAnonKb(status: string): number {
  const m = /^RssAnon:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) : 0;
}

/** Resident memory of `pid`'s tree in kB: all of it, and the anonymous part. */
export function memoryKb(pid: number): { rss: number; anon: number } {
  let rss = 0;
  let anon = 0;
  for (const p of processTree(pid)) {
    try {
      const status = readFileSync(`/proc/${p}/status`, "utf8");
      rss += parseVmRssKb(status);
      anon += parseRssAnonKb(status);
    } catch {
      // exited between listing and reading
    }
  }
  return { rss, anon };
}

export function rssKb(pid: number): number {
  return memoryKb(pid).rss;
}

/** Samples RSS of named processes every `everyMs` and keeps the peak of each (and of its anonymous part). */
export class RssSampler {
  private readonly peaks = new Map<string, number>();
  private readonly anonPeaks = new Map<string, number>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly pids: ReadonlyMap<string, number>, private readonly everyMs = 100) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
  }

  /** Peak MB per process name: RSS, and RssAnon (each peak on its own; they need not be the same sample). */
  stop(): { rss: Record<string, number>; anon: Record<string, number> } {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    const mb = (m: Map<string, number>): Record<string, number> => Object.fromEntries([...m].map(([name, kb]) => [name, kb / 1024]));
    return { rss: mb(this.peaks), anon: mb(this.anonPeaks) };
  }

  private sample(): void {
    for (const [name, pid] of this.pids) {
      const { rss, anon } = memoryKb(pid);
      if (rss > (this.peaks.get(name) ?? 0)) this.peaks.set(name, rss);
      if (anon > (this.anonPeaks.get(name) ?? 0)) this.anonPeaks.set(name, anon);
    }
  }
}
