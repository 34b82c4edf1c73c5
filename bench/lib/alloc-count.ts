// What a proxy allocates per request, from the probe's lines (lib/alloc-probe.ts): object counts by JSC type between
// two signals. Counts, not times: they read the same on a noisy VM, so a change's effect shows at once.

/** The prefix of the probe's stderr line. */
export const ALLOC_LINE = "mesh-alloc-window ";

/** One window between the probe's two signals. */
export type AllocWindow = {
  /** A collection ran inside the window: the counts miss what it freed, so the window is not used. */
  readonly collected: boolean;
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

/** Per request: all objects and the `top` types, most first. */
export function perRequest(w: AllocWindow, requests: number, top = 12): { objects: number; types: Array<[string, number]> } {
  const types = Object.entries(w.counts).map(([k, v]) => [k, v / requests] as [string, number]);
  types.sort((a, b) => b[1] - a[1]);
  const objects = types.reduce((a, [, v]) => a + v, 0);
  return { objects, types: types.slice(0, top) };
}

export function renderPerRequest(proxy: string, w: AllocWindow, requests: number): string {
  const p = perRequest(w, requests);
  const types = p.types.map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ");
  return `${proxy}: ${p.objects.toFixed(1)} objects per request (${types})`;
}
