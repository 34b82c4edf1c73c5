// At most one log line per key and interval, for events that can come at connection rates (a denied caller, an
// upstream that keeps failing): the first is written at once, the rest counted into the next line for that key.
export type LogSampler = (key: string, write: (suppressed: number) => void) => void;

export function logSampler(intervalMs = 10_000, maxKeys = 1000): LogSampler {
  let last = new Map<string, { at: number; suppressed: number }>();
  return (key, write) => {
    const now = performance.now();
    const seen = last.get(key);
    if (seen !== undefined && now - seen.at < intervalMs) {
      seen.suppressed++;
      return;
    }
    // Keys come from peers: forget them all rather than grow without bound (a few extra lines at worst).
    if (seen === undefined && last.size >= maxKeys) last = new Map();
    last.set(key, { at: now, suppressed: 0 });
    write(seen?.suppressed ?? 0);
  };
}
