// Counts in-flight requests so a listener can stop accepting and wait for them to finish before exiting.
// Counted at the handler because Bun.serve exposes pending requests but no "all done" signal.
export type DrainTracker = { begin(): () => void; inFlight(): number; idle(timeoutMs: number): Promise<boolean> };

export function createDrainTracker(): DrainTracker {
  let inFlight = 0;
  let waiters: Array<() => void> = [];
  return {
    begin() {
      inFlight++;
      let ended = false;
      return () => {
        if (ended) return;
        ended = true;
        inFlight--;
        if (inFlight === 0) {
          for (const w of waiters) w();
          waiters = [];
        }
      };
    },
    inFlight: () => inFlight,
    idle(timeoutMs) {
      if (inFlight === 0) return Promise.resolve(true);
      return new Promise((resolve) => {
        const t = setTimeout(() => resolve(false), timeoutMs);
        waiters.push(() => {
          clearTimeout(t);
          resolve(true);
        });
      });
    },
  };
}
