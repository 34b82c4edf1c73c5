// Local rate limiting state: one token bucket per key (or one for "" when unkeyed), refilled lazily on take().
// Keys are bounded by least-recently-used eviction, so a flood of distinct keys cannot grow memory without limit.

export type TokenBucketConfig = { readonly ratePerSecond: number; readonly burst: number };

export type KeyedBuckets = {
  /** Live reconfiguration: keeps every key's current token level (clamped to the new burst on its next take). */
  configure(c: TokenBucketConfig): void;
  /**
   * Takes one token for `key` ("" when not keyed). Returns 0 when allowed, else the milliseconds until one token is
   * available (for Retry-After). O(1), no allocation for an existing key.
   */
  take(key: string, now: number): number;
  readonly size: number;
};

type Bucket = { tokens: number; last: number };

const DEFAULT_MAX_KEYS = 10_000;

function validate(c: TokenBucketConfig): void {
  // A zero rate would make the wait infinite, and a burst below one token could never admit a request.
  if (!Number.isFinite(c.ratePerSecond) || c.ratePerSecond <= 0) throw new Error(`ratePerSecond must be a positive number, got ${c.ratePerSecond}`);
  if (!Number.isFinite(c.burst) || c.burst < 1) throw new Error(`burst must be a number of at least 1, got ${c.burst}`);
}

/** `now` is in milliseconds on any monotonic clock (performance.now() in the filter, a counter in tests). */
export function createKeyedBuckets(c: TokenBucketConfig, o: { maxKeys?: number } = {}): KeyedBuckets {
  validate(c);
  const maxKeys = o.maxKeys ?? DEFAULT_MAX_KEYS;
  if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new Error(`maxKeys must be a positive integer, got ${maxKeys}`);
  let perMs = c.ratePerSecond / 1000;
  let burst = c.burst;
  // Map iteration follows insertion order, so re-inserting a key on use keeps the least recently used one first.
  const buckets = new Map<string, Bucket>();
  // The last key inserted (the map's last entry). Taking it again needs no move: an unkeyed limit, or one busy caller,
  // would otherwise delete and re-insert the same entry per request, and the map's table refills with tombstones.
  let newest: string | undefined;

  return {
    configure(next) {
      validate(next);
      // Levels are not touched here: take() caps them at the new burst, and refill since a bucket's last take uses
      // the new rate (configure has no clock; the difference is at most one interval's worth of the old rate).
      perMs = next.ratePerSecond / 1000;
      burst = next.burst;
    },
    take(key, now) {
      let b = buckets.get(key);
      if (b === undefined) {
        if (buckets.size >= maxKeys) {
          const oldest = buckets.keys().next();
          if (oldest.done !== true) buckets.delete(oldest.value);
        }
        // A new key starts full, like a key that has been idle: the burst is what a fresh client is allowed.
        b = { tokens: burst, last: now };
        buckets.set(key, b);
        newest = key;
      } else {
        if (key !== newest) {
          buckets.delete(key);
          buckets.set(key, b);
          newest = key;
        }
        // A clock that steps back must not drain the bucket or move its reference point backwards.
        if (now > b.last) {
          b.tokens = Math.min(burst, b.tokens + (now - b.last) * perMs);
          b.last = now;
        } else if (b.tokens > burst) {
          b.tokens = burst;
        }
      }
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return 0;
      }
      // Rounded up, so a refused take never reports 0 ("allowed") and a client retrying after it finds a token; the
      // nanosecond slack keeps float noise (1 - 0.999 = 0.0010000000000000009) from adding a whole millisecond.
      return Math.max(1, Math.ceil((1 - b.tokens) / perMs - 1e-6));
    },
    get size() {
      return buckets.size;
    },
  };
}
