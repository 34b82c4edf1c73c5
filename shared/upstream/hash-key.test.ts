// Unit tests for the 32-bit string hashes: pinned values, range, bucket distribution, avalanche, seed independence.
// Pinned values guard against an accidental change, which would silently remap every affinity key on upgrade.
import { describe, expect, test } from "bun:test";
import { hash32, hash32Seeded } from "./hash-key.ts";

const popcount = (x: number) => {
  let n = 0;
  for (let v = x >>> 0; v !== 0; v >>>= 1) n += v & 1;
  return n;
};

describe("hash32", () => {
  test("pinned values (FNV-1a over UTF-16 code units, then murmur3 fmix32), cross-checked with a reference", () => {
    expect(hash32("")).toBe(2872998923);
    expect(hash32("a")).toBe(444641715);
    expect(hash32("user-42")).toBe(2083131798);
    expect(hash32("é😀")).toBe(4159213040); // non-ASCII and a surrogate pair hash their code units, no encoding step
  });

  test("results are unsigned 32-bit integers", () => {
    for (let i = 0; i < 1000; i++) {
      const h = hash32(`k${i}`);
      expect(Number.isInteger(h) && h >= 0 && h <= 0xffffffff).toBe(true);
    }
  });

  test("100k sequential keys spread over 64 buckets within ±10%, in the low bits and the high bits", () => {
    const keys = 100_000;
    const low = new Array<number>(64).fill(0);
    const high = new Array<number>(64).fill(0);
    for (let i = 0; i < keys; i++) {
      const h = hash32(`user-${i}`);
      low[h % 64]!++;
      high[h >>> 26]!++;
    }
    const expected = keys / 64;
    for (const count of [...low, ...high]) {
      expect(count).toBeGreaterThan(expected * 0.9);
      expect(count).toBeLessThan(expected * 1.1);
    }
  });

  test("one changed character flips about half of the output bits (avalanche)", () => {
    let flipped = 0;
    const n = 10_000;
    for (let i = 0; i < n; i++) flipped += popcount(hash32(`session-${i}a`) ^ hash32(`session-${i}b`));
    const mean = flipped / n;
    expect(mean).toBeGreaterThan(15.5);
    expect(mean).toBeLessThan(16.5);
  });
});

describe("hash32Seeded", () => {
  test("deterministic, and different seeds give different values (also for the empty string)", () => {
    expect(hash32Seeded("ep-1", 1)).toBe(hash32Seeded("ep-1", 1));
    expect(hash32Seeded("ep-1", 1)).not.toBe(hash32Seeded("ep-1", 2));
    expect(hash32Seeded("", 1)).not.toBe(hash32Seeded("", 2));
  });

  test("two seeds behave as independent hashes: their residues mod 64 agree about 1 time in 64", () => {
    const n = 100_000;
    let same = 0;
    const joint = new Array<number>(64 * 64).fill(0);
    for (let i = 0; i < n; i++) {
      const a = hash32Seeded(`10.0.${i >>> 8}.${i & 255}:8080`, 1) % 64;
      const b = hash32Seeded(`10.0.${i >>> 8}.${i & 255}:8080`, 2) % 64;
      if (a === b) same++;
      joint[a * 64 + b]!++;
    }
    expect(Math.abs(same / n - 1 / 64)).toBeLessThan(0.003);
    // Every (a, b) pair occurs: the offset/skip pairs Maglev derives cover the whole grid.
    expect(joint.every((c) => c > 0)).toBe(true);
  });

  test("seeded hashes spread over 64 buckets within ±10%", () => {
    const counts = new Array<number>(64).fill(0);
    for (let i = 0; i < 100_000; i++) counts[hash32Seeded(`ep-${i}`, 7) % 64]!++;
    for (const c of counts) expect(Math.abs(c - 100_000 / 64)).toBeLessThan(100_000 / 64 / 10);
  });
});
