// Unit tests for the keyed token buckets: burst then steady rate, Retry-After values, per-key independence,
// the LRU bound and live reconfiguration. Time is a plain number passed to take(): no clocks, no sleeps.
import { describe, expect, test } from "bun:test";
import { createKeyedBuckets } from "./token-bucket.ts";

describe("keyed token buckets", () => {
  test("a burst is admitted at once, then the steady rate: 10 simulated seconds admit rate * 10 + burst (±1%)", () => {
    const rate = 100;
    const burst = 20;
    const b = createKeyedBuckets({ ratePerSecond: rate, burst });
    let atStart = 0;
    for (let i = 0; i < 50; i++) if (b.take("", 0) === 0) atStart++;
    expect(atStart).toBe(burst);
    let accepted = atStart;
    // Offered far above the rate: one attempt every millisecond for 10 s.
    for (let now = 1; now <= 10_000; now++) if (b.take("", now) === 0) accepted++;
    const expected = rate * 10 + burst;
    expect(Math.abs(accepted - expected)).toBeLessThanOrEqual(expected * 0.01);
  });

  test("a refused take returns the milliseconds until a token, rounded up and never 0", () => {
    const b = createKeyedBuckets({ ratePerSecond: 2, burst: 1 });
    expect(b.take("", 0)).toBe(0);
    expect(b.take("", 0)).toBe(500);
    expect(b.take("", 200)).toBe(300);
    expect(b.take("", 499.5)).toBe(1);
    expect(b.take("", 500)).toBe(0);
    const slow = createKeyedBuckets({ ratePerSecond: 0.1, burst: 1 });
    slow.take("", 0);
    expect(slow.take("", 0)).toBe(10_000); // Retry-After: 10 s
  });

  test("a refusal costs nothing: waiting the returned time is enough", () => {
    const b = createKeyedBuckets({ ratePerSecond: 3, burst: 1 });
    b.take("", 0);
    const wait = b.take("", 0);
    expect(b.take("", wait / 2)).toBeGreaterThan(0);
    expect(b.take("", wait)).toBe(0);
  });

  test("keys are independent; the unkeyed bucket is just the key \"\"", () => {
    const b = createKeyedBuckets({ ratePerSecond: 1, burst: 2 });
    expect([b.take("a", 0), b.take("a", 0)]).toEqual([0, 0]);
    expect(b.take("a", 0)).toBeGreaterThan(0);
    expect([b.take("b", 0), b.take("b", 0)]).toEqual([0, 0]);
    expect(b.take("", 0)).toBe(0);
    expect(b.size).toBe(3);
  });

  test("idle buckets refill up to the burst, never beyond", () => {
    const b = createKeyedBuckets({ ratePerSecond: 10, burst: 3 });
    for (let i = 0; i < 3; i++) b.take("k", 0);
    let admitted = 0;
    for (let i = 0; i < 10; i++) if (b.take("k", 60_000) === 0) admitted++;
    expect(admitted).toBe(3);
  });

  test("a clock stepping back neither refills nor drains", () => {
    const b = createKeyedBuckets({ ratePerSecond: 1, burst: 1 });
    expect(b.take("", 5000)).toBe(0);
    expect(b.take("", 1000)).toBe(1000);
    expect(b.take("", 5999)).toBe(1);
    expect(b.take("", 6000)).toBe(0);
  });

  test("taking the newest key again keeps the LRU order: same answers as a model that re-inserts on every take", () => {
    // The model: the plain LRU (delete and re-insert on each take) with the same refill, over random keys and times.
    const model = (maxKeys: number) => {
      const m = new Map<string, { tokens: number; last: number }>();
      return (key: string, now: number): number => {
        let b = m.get(key);
        if (b === undefined) {
          if (m.size >= maxKeys) m.delete(m.keys().next().value!);
          b = { tokens: 2, last: now };
        } else {
          m.delete(key);
          if (now > b.last) {
            b.tokens = Math.min(2, b.tokens + (now - b.last) * 0.005);
            b.last = now;
          }
        }
        m.set(key, b);
        if (b.tokens >= 1) {
          b.tokens -= 1;
          return 0;
        }
        return Math.max(1, Math.ceil((1 - b.tokens) / 0.005 - 1e-6));
      };
    };
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (const maxKeys of [1, 2, 3]) {
      const real = createKeyedBuckets({ ratePerSecond: 5, burst: 2 }, { maxKeys });
      const ref = model(maxKeys);
      let now = 0;
      for (let i = 0; i < 5000; i++) {
        // Runs of one key (the case the shortcut serves) mixed with switches among four keys.
        const key = random() < 0.6 ? "a" : "abcd"[Math.floor(random() * 4)]!;
        now += Math.floor(random() * 50);
        expect(real.take(key, now)).toBe(ref(key, now));
      }
    }
  });

  test("at most maxKeys buckets: a new key evicts the least recently used one", () => {
    const b = createKeyedBuckets({ ratePerSecond: 1, burst: 1 }, { maxKeys: 3 });
    b.take("a", 0);
    b.take("b", 0);
    b.take("c", 0);
    expect(b.take("a", 0)).toBeGreaterThan(0); // touches a: b is now the least recently used
    b.take("d", 0); // evicts b
    expect(b.size).toBe(3);
    expect(b.take("a", 0)).toBeGreaterThan(0); // a kept its empty bucket
    expect(b.take("b", 0)).toBe(0); // b starts over with a full bucket (and evicts c)
    expect(b.take("d", 0)).toBeGreaterThan(0);
    expect(b.take("c", 0)).toBe(0);
    expect(b.size).toBe(3);
  });

  test("configure() changes rate and burst live, keeping levels and clamping them to the new burst", () => {
    const b = createKeyedBuckets({ ratePerSecond: 1, burst: 10 });
    for (let i = 0; i < 8; i++) b.take("k", 0); // 2 tokens left
    b.configure({ ratePerSecond: 1, burst: 20 });
    let admitted = 0;
    for (let i = 0; i < 30; i++) if (b.take("k", 0) === 0) admitted++;
    expect(admitted).toBe(2); // a larger burst does not hand out tokens

    b.configure({ ratePerSecond: 100, burst: 20 });
    expect(b.take("k", 10)).toBe(0); // 10 ms at the new rate: 1 token
    expect(b.take("k", 10)).toBe(10); // 0 tokens left, 10 ms per token

    const full = createKeyedBuckets({ ratePerSecond: 1, burst: 10 });
    full.take("k", 0); // 9 tokens
    full.configure({ ratePerSecond: 1, burst: 3 });
    admitted = 0;
    for (let i = 0; i < 10; i++) if (full.take("k", 0) === 0) admitted++;
    expect(admitted).toBe(3);
  });

  test("invalid settings are refused", () => {
    expect(() => createKeyedBuckets({ ratePerSecond: 0, burst: 1 })).toThrow();
    expect(() => createKeyedBuckets({ ratePerSecond: 1, burst: 0.5 })).toThrow();
    expect(() => createKeyedBuckets({ ratePerSecond: Number.NaN, burst: 1 })).toThrow();
    expect(() => createKeyedBuckets({ ratePerSecond: 1, burst: 1 }, { maxKeys: 0 })).toThrow();
    const b = createKeyedBuckets({ ratePerSecond: 1, burst: 1 });
    expect(() => b.configure({ ratePerSecond: -1, burst: 1 })).toThrow();
    expect(b.take("", 0)).toBe(0); // the refused configure left the old one in place
  });
});
