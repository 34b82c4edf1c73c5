// Linkerd's retry budget for one cluster: retries may add `ratio` of the first tries, plus a floor per second.
// Caps retry amplification during an outage, where per-request attempt limits alone would multiply the load.

export type RetryBudgetConfig = {
  /** 0.2 = retries may add 20% to the first tries in the window. */
  readonly ratio: number;
  /** Retries allowed per second even without traffic. */
  readonly minPerSecond: number;
  /** The sliding window (Linkerd's default is 10 s). */
  readonly ttlMs: number;
};

export type RetryBudget = {
  /** Ratio and floor apply at once; a new ttlMs starts a fresh window. */
  configure(c: RetryBudgetConfig): void;
  /** A first try started (not a retry). O(1). */
  request(): void;
  /**
   * A retry wants to go: true (and counted) when, counting it, retries in the window stay within
   * minPerSecond * ttlMs / 1000 + ratio * first tries in the window; false counts `exhausted`. O(1).
   */
  tryRetry(): boolean;
  stats(): { exhausted: number };
};

/** The window is this many buckets, so it slides in steps of ttlMs / 10 and spans between 0.9 and 1 ttl. */
const BUCKETS = 10;
/** 0.2 * 100 is not exactly 20 in floating point: a retry exactly at the budget is allowed. */
const EPSILON = 1e-9;

/** Ring slot of bucket number b; safe for an injected clock below zero. */
const slot = (b: number): number => ((b % BUCKETS) + BUCKETS) % BUCKETS;

export function createRetryBudget(c: RetryBudgetConfig, now: () => number = () => performance.now()): RetryBudget {
  let config = c;
  const requests: number[] = new Array<number>(BUCKETS).fill(0);
  const retries: number[] = new Array<number>(BUCKETS).fill(0);
  let bucketMs = 1;
  /** Number of the current bucket (time / bucketMs). */
  let head = 0;
  let requestSum = 0;
  let retrySum = 0;
  let exhausted = 0;

  function reset(): void {
    bucketMs = Math.max(1, config.ttlMs / BUCKETS);
    head = Math.floor(now() / bucketMs);
    requests.fill(0);
    retries.fill(0);
    requestSum = retrySum = 0;
  }

  /** Drops the buckets that left the window: at most BUCKETS steps, however long the budget sat idle. */
  function advance(): number {
    const current = Math.floor(now() / bucketMs);
    if (current <= head) return slot(head); // same bucket, or a clock that stepped back
    if (current - head >= BUCKETS) {
      requests.fill(0);
      retries.fill(0);
      requestSum = retrySum = 0;
    } else {
      for (let b = head + 1; b <= current; b++) {
        const i = slot(b);
        requestSum -= requests[i] as number;
        retrySum -= retries[i] as number;
        requests[i] = retries[i] = 0;
      }
    }
    head = current;
    return slot(head);
  }

  reset();
  return {
    configure(next) {
      const ttlChanged = next.ttlMs !== config.ttlMs;
      config = next;
      // Buckets of the old width cannot be re-cut into the new one; an empty window only leaves the floor for a moment.
      if (ttlChanged) reset();
    },
    request() {
      const i = advance();
      requests[i] = (requests[i] as number) + 1;
      requestSum++;
    },
    tryRetry() {
      const i = advance();
      const budget = (config.minPerSecond * config.ttlMs) / 1000 + config.ratio * requestSum;
      if (retrySum + 1 > budget + EPSILON) {
        exhausted++;
        return false;
      }
      retries[i] = (retries[i] as number) + 1;
      retrySum++;
      return true;
    },
    stats() {
      return { exhausted };
    },
  };
}
