// After a large config read, one full collection once the state is compiled and applied: what the read left (the
// YAML parser's event list, the document) otherwise stays resident until a full collection an idle member may not run.

/**
 * Config texts from this size on (characters) get a collection: a 10,000-route file (1.6 MB) left 9-36 MB of RSS that
 * a collection gave back (docs/performance.md, "10,000 routes at idle"), and a full collection of such a heap takes ~12 ms. Below
 * it the read leaves little, and a pause per config change buys nothing.
 */
export const LARGE_READ_CHARS = 256 * 1024;

export type Reclaimer = {
  /** A state of `chars` characters is about to be compiled and applied: a large one schedules one collection after. */
  handedOn(chars: number): void;
  /** Collections run so far (tests read it). */
  collections(): number;
};

/**
 * `collect` is the runtime's full collection (runtime ports' collectGarbage); without one (Deno) nothing is scheduled.
 * It runs on a timer, not in a microtask: the watcher compiles and applies the state in the microtasks that follow,
 * and the garbage is only garbage after that.
 */
export function createReclaimer(collect: (() => void) | undefined, thresholdChars = LARGE_READ_CHARS): Reclaimer {
  let scheduled: ReturnType<typeof setTimeout> | undefined;
  let runs = 0;
  return {
    handedOn(chars) {
      if (collect === undefined || chars < thresholdChars || scheduled !== undefined) return;
      scheduled = setTimeout(() => {
        scheduled = undefined;
        runs += 1;
        collect();
      }, 0);
      // Never what keeps a draining member alive.
      (scheduled as { unref?: () => void }).unref?.();
    },
    collections: () => runs,
  };
}
