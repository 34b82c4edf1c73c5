// System calls per request of a proxy, counted by `perf stat` on the kernel's syscall tracepoints while wrk runs:
// a count, not a time, so it reads the same on a noisy VM and says whether a proxy pays more kernel entries per request.

/** The calls a proxy's request path makes (socket I/O, the event loop, the allocator), and the total of all calls. */
export const SYSCALLS = ["sendto", "recvfrom", "write", "writev", "read", "readv", "epoll_wait", "epoll_pwait", "epoll_pwait2", "epoll_ctl", "futex", "madvise", "mmap", "munmap", "accept4", "close", "setsockopt", "getsockopt", "connect", "socket"] as const;
export const TOTAL = "all";

/** The `-e` argument of `perf stat`: the total first, then one tracepoint per call. */
export const perfEvents = (): string => ["raw_syscalls:sys_enter", ...SYSCALLS.map((n) => `syscalls:sys_enter_${n}`)].join(",");

/**
 * Reads `perf stat -x ,` output (count,unit,event,...) into counts by call name, the total under TOTAL. Calls that
 * never ran are left out; "<not counted>"/"<not supported>" rows too (an event this kernel lacks is not a zero).
 */
export function parsePerfStatCsv(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const cells = line.split(",");
    if (cells.length < 3 || !/^\d+$/.test(cells[0]!)) continue;
    const event = cells[2]!;
    const name = event === "raw_syscalls:sys_enter" ? TOTAL : event.startsWith("syscalls:sys_enter_") ? event.slice("syscalls:sys_enter_".length) : undefined;
    const n = Number(cells[0]);
    if (name !== undefined && n > 0) out.set(name, n);
  }
  return out;
}

/** One line per proxy: calls per request, the total first, then the named calls from most to fewest. */
export function renderPerRequest(proxy: string, counts: ReadonlyMap<string, number>, requests: number): string {
  const per = (n: number): string => (n / requests).toFixed(3);
  const named = [...counts].filter(([k]) => k !== TOTAL).sort((a, b) => b[1] - a[1]);
  return `${proxy}: ${per(counts.get(TOTAL) ?? 0)} system calls per request (${named.map(([k, v]) => `${k} ${per(v)}`).join(", ")})`;
}
