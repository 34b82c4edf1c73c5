// Unit tests for the Maglev balancer: even table shares, affinity, retries probing the table, fallbacks, remapping.
// Keys are hashes of distinct strings, so every run sees the same "random" keys and the measured fractions are stable.
import { describe, expect, test } from "bun:test";
import { createMaglev } from "./maglev.ts";
import { hash32 } from "./hash-key.ts";
import { endpoint } from "../../test/support/endpoints.ts";
import type { Balancer } from "../types.ts";

const keys = Array.from({ length: 10_000 }, (_, i) => hash32(`client-${i}`));
const named = (ids: string[]) => ids.map((id) => endpoint(id));
const tenIds = Array.from({ length: 10 }, (_, i) => `ep-${i}`);
const assign = (b: Balancer, hashes: number[]) => hashes.map((h) => b.pick(undefined, h)?.id);
const maglev = (ids: string[], o?: Parameters<typeof createMaglev>[0]) => {
  const b = createMaglev(o);
  b.update(named(ids));
  return b;
};

describe("maglev", () => {
  test("empty -> undefined, with or without a hash", () => {
    const b = createMaglev();
    expect(b.pick()).toBeUndefined();
    expect(b.pick(undefined, 42)).toBeUndefined();
    b.update([]);
    expect(b.pick(new Set(["x"]), 42)).toBeUndefined();
  });

  test("tableSize must be a prime", () => {
    expect(() => createMaglev({ tableSize: 65536 })).toThrow();
    expect(() => createMaglev({ tableSize: 1 })).toThrow();
    expect(() => createMaglev({ tableSize: 5000011 + 2 })).toThrow();
    expect(() => createMaglev({ tableSize: 7 })).not.toThrow();
  });

  test("every endpoint owns floor(M/n) or ceil(M/n) slots: the fill gives one slot per endpoint per round", () => {
    const b = maglev(tenIds);
    const counts = new Map<string, number>();
    for (let slot = 0; slot < 65537; slot++) {
      const id = b.pick(undefined, slot)?.id as string;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    expect([...counts.values()].sort()).toEqual([6553, 6553, 6553, 6554, 6554, 6554, 6554, 6554, 6554, 6554]);
  });

  test("pick(hash) reads slot hash % M, and the table depends only on the set of ids", () => {
    const a = maglev(["a", "b", "c", "d"], { tableSize: 251 });
    const b = maglev(["d", "c", "b", "a"], { tableSize: 251 });
    for (let h = 0; h < 251; h++) {
      expect(a.pick(undefined, h)?.id).toBe(a.pick(undefined, h + 251 * 1000)?.id as string);
      expect(a.pick(undefined, h)?.id).toBe(b.pick(undefined, h)?.id as string);
    }
    expect(assign(a, keys)).toEqual(assign(b, keys));
  });

  test("without a hash (no affinity key) it is round robin in id order, honouring exclude", () => {
    const b = maglev(["c", "a", "b"]);
    expect([1, 2, 3, 4].map(() => b.pick()?.id)).toEqual(["a", "b", "c", "a"]);
    expect(b.pick(new Set(["b", "c"]))?.id).toBe("a");
  });

  test("a retry rehashes the key until it finds an untried endpoint: same answer each time, spread evenly over the rest", () => {
    const b = maglev(tenIds);
    const retried = new Map<string, number>();
    for (const h of keys) {
      const home = b.pick(undefined, h)?.id as string;
      const tried = new Set([home]);
      const next = b.pick(tried, h)?.id as string;
      expect(next).not.toBe(home);
      expect(b.pick(tried, h)?.id).toBe(next);
      retried.set(next, (retried.get(next) ?? 0) + 1);
    }
    expect(retried.size).toBe(10);
    for (const c of retried.values()) expect(Math.abs(c - 1000)).toBeLessThan(200);
    const tried = new Set(["ep-1", "ep-4", "ep-7"]);
    for (const h of keys.slice(0, 1000)) expect(tried.has(b.pick(tried, h)?.id as string)).toBe(false);
  });

  test("a retry still finds the one untried endpoint of 100 (rehashed probes give up, the table scan does not)", () => {
    const ids = Array.from({ length: 100 }, (_, i) => `ep-${i}`);
    const b = maglev(ids);
    const tried = new Set(ids.filter((id) => id !== "ep-42"));
    for (const h of keys.slice(0, 300)) expect(b.pick(tried, h)?.id).toBe("ep-42");
  });

  test("an exclude set without the key's endpoint changes nothing", () => {
    const b = maglev(tenIds);
    for (const h of keys.slice(0, 500)) {
      const home = b.pick(undefined, h)?.id as string;
      const other = home === "ep-0" ? "ep-1" : "ep-0";
      expect(b.pick(new Set([other]), h)?.id).toBe(home);
    }
  });

  test("everything tried: the key's endpoint, unless it failed last; then another one", () => {
    const b = maglev(tenIds);
    for (const h of keys.slice(0, 500)) {
      const home = b.pick(undefined, h)?.id as string;
      const others = tenIds.filter((id) => id !== home);
      expect(b.pick(new Set([home, ...others]), h)?.id).toBe(home);
      expect(b.pick(new Set([...others, home]), h)?.id).not.toBe(home);
    }
    const one = maglev(["solo"]);
    expect(one.pick(new Set(["solo"]), keys[0])?.id).toBe("solo");
  });

  test("update() with the same ids keeps every mapping and hands out the new Endpoint values", () => {
    const b = maglev(tenIds);
    const before = assign(b, keys);
    b.update(tenIds.toReversed().map((id) => endpoint(id, { port: 7000 })));
    expect(assign(b, keys)).toEqual(before);
    expect(b.pick(undefined, keys[0])?.port).toBe(7000);
  });

  test("more endpoints than slots: the table fills up and every endpoint stays reachable without a hash", () => {
    const b = maglev(["a", "b", "c", "d", "e", "f", "g", "h"], { tableSize: 7 });
    const seen = new Set(Array.from({ length: 8 }, () => b.pick()?.id));
    expect(seen.size).toBe(8);
    const slotted = new Set(Array.from({ length: 7 }, (_, h) => b.pick(undefined, h)?.id as string));
    const slotless = ["a", "b", "c", "d", "e", "f", "g", "h"].filter((id) => !slotted.has(id));
    expect(slotless.length).toBeGreaterThan(0);
    // A retry that tried every endpoint with a slot goes on to one without (round robin), not back to a tried one.
    for (const h of keys.slice(0, 20)) expect(slotless).toContain(b.pick(slotted, h)?.id as string);
  });

  test("remapping, 10 endpoints and 10k keys: removing one moves few other keys; an 11th takes about 1/11", () => {
    // Theory (Maglev paper, §3.4): the table is near-minimally disruptive, not minimally: a removed endpoint's slots
    // go back into the fill, and the changed fill order can also shift a few slots between endpoints that stayed.
    const b = maglev(tenIds);
    const before = assign(b, keys);
    b.update(named(tenIds.filter((id) => id !== "ep-3")));
    const afterRemove = assign(b, keys);
    let stayers = 0;
    let stayersMoved = 0;
    let moved = 0;
    for (let i = 0; i < keys.length; i++) {
      if (afterRemove[i] !== before[i]) moved++;
      if (before[i] === "ep-3") continue;
      stayers++;
      if (afterRemove[i] !== before[i]) stayersMoved++;
    }
    console.log(`maglev remove 1 of 10: ${(stayersMoved / stayers).toFixed(4)} of keys not on it moved (${(moved / keys.length).toFixed(4)} of all keys)`);
    expect(stayersMoved / stayers).toBeLessThan(0.02);

    b.update(named([...tenIds, "ep-10"]));
    const afterAdd = assign(b, keys);
    let addMoved = 0;
    let addMovedToOld = 0;
    for (let i = 0; i < keys.length; i++) {
      if (afterAdd[i] === before[i]) continue;
      addMoved++;
      if (afterAdd[i] !== "ep-10") addMovedToOld++;
    }
    console.log(`maglev add an 11th to 10: ${(addMoved / keys.length).toFixed(4)} of keys moved (1/11 = 0.0909), ${(addMovedToOld / keys.length).toFixed(4)} not to the newcomer`);
    expect(addMoved / keys.length).toBeLessThan(0.15);
    expect(addMoved / keys.length).toBeGreaterThan(0.04);
  });
});
