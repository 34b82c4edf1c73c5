// Event-loop delay from timer drift: a timer due every 100 ms notes how late it fired. Own sampler because the
// runtimes' histogram (perf_hooks) missed a 50 ms block on Deno 2.9.6 while Bun's caught it; this works on both.

export type EventLoopSampler = {
  /** The delays (seconds) of the last window, and totals since start, for a summary. */
  read(): { window: readonly number[]; sum: number; count: number };
  stop(): void;
};

export function startEventLoopSampler(o: { intervalMs?: number; windowSamples?: number } = {}): EventLoopSampler {
  const interval = o.intervalMs ?? 100;
  const ring = new Float64Array(o.windowSamples ?? 600); // 60 s at the default interval
  let filled = 0;
  let next = 0;
  let sum = 0;
  let count = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const delay = Math.max(0, now - last - interval) / 1000;
    last = now;
    ring[next] = delay;
    next = (next + 1) % ring.length;
    if (filled < ring.length) filled++;
    sum += delay;
    count++;
  }, interval);
  // Never what keeps a draining member alive.
  (timer as { unref?: () => void }).unref?.();
  return {
    read: () => ({ window: Array.from(ring.subarray(0, filled)), sum, count }),
    stop: () => clearInterval(timer),
  };
}
