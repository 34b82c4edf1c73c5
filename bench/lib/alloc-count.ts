// What a proxy allocates per request, from the probe's lines (lib/alloc-probe.ts): object counts by JSC type between
// two signals. Counts, not times: they read the same on a noisy VM, so a change's effect shows at once.

/** The prefix of the probe's stderr line. */
export const ALLOC_LINE = "mesh-alloc-window ";

/** One window between the probe's two signals. */
export type AllocWindow = {
  /** A collection ran inside the window: the counts miss what it freed, so the window is not used. */
  readonly collected: boolean;
  /** How long the window was open, in the proxy's own clock. */
  readonly ms: number;
  /** Objects allocated, by JSC type name (only types that grew). */
  readonly counts: Readonly<Record<string, number>>;
};

/** The newest window in a log, or undefined when the probe has written none. */
export function lastWindow(log: string): AllocWindow | undefined {
  const at = log.lastIndexOf(ALLOC_LINE);
  if (at < 0) return undefined;
  const end = log.indexOf("\n", at);
  return JSON.parse(log.slice(at + ALLOC_LINE.length, end < 0 ? undefined : end)) as AllocWindow;
}

/**
 * Per request: all objects and the `top` types, most first. `idle` (a window with no request) is what the process
 * allocates on its own (timers, metrics): its rate times this window's length is taken off first.
 */
export function perRequest(w: AllocWindow, requests: number, idle?: AllocWindow, top = 12): { objects: number; types: Array<[string, number]> } {
  const scale = idle === undefined || idle.ms <= 0 ? 0 : w.ms / idle.ms;
  const types = Object.entries(w.counts)
    .map(([k, v]) => [k, Math.max(0, v - (idle?.counts[k] ?? 0) * scale) / requests] as [string, number])
    .filter(([, v]) => v > 0);
  types.sort((a, b) => b[1] - a[1]);
  const objects = types.reduce((a, [, v]) => a + v, 0);
  return { objects, types: types.slice(0, top) };
}

/** Objects per second a process allocates with no request in flight. */
export function idleRate(idle: AllocWindow): number {
  const all = Object.values(idle.counts).reduce((a, v) => a + v, 0);
  return idle.ms > 0 ? (all / idle.ms) * 1000 : 0;
}

export function renderPerRequest(proxy: string, w: AllocWindow, requests: number, idle?: AllocWindow): string {
  const p = perRequest(w, requests, idle);
  const types = p.types.map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ");
  const bg = idle === undefined ? "" : `; ${idleRate(idle).toFixed(0)}/s with no request, taken off`;
  return `${proxy}: ${p.objects.toFixed(1)} objects per request (${types})${bg}`;
}
