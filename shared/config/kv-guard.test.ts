// Unit tests for telling lost KV config from intended changes: empty and vanished prefixes, an index that went
// back with fewer documents, partial refills, the confirm marker, deletions, and a starting member (no baseline).
import { describe, expect, test } from "bun:test";
import { createKvGuard, judgeKvState, summarizeKvState, type KvState } from "./kv-guard.ts";

const P = "mesh/";
const state = (index: number, documents: number, o: Partial<KvState> = {}): KvState => ({ index, documents, vanished: false, confirmed: false, ...o });

describe("summarizeKvState", () => {
  test("counts config documents only; sees the confirm marker", () => {
    const keys = ["mesh/", "mesh/settings", "mesh/routes/a", "mesh/whatever", "mesh/routes/", "mesh/confirmed", "other/settings"];
    expect(summarizeKvState(keys, P, 7, false)).toEqual({ index: 7, vanished: false, documents: 2, confirmed: true });
  });
});

describe("judgeKvState", () => {
  const base = { index: 100, documents: 4 };
  test("an empty or vanished prefix is held when something is live, and waited on at start", () => {
    expect(judgeKvState(state(101, 0, { vanished: true }), base, P)?.reason).toBe("vanished");
    expect(judgeKvState(state(101, 0), base, P)?.reason).toBe("empty");
    const start = judgeKvState(state(1, 0, { vanished: true }), undefined, P);
    expect(start?.reason).toBe("vanished");
    expect(start?.message).toContain("waiting for the first config");
    expect(start?.message).toContain("meshctl teardown --yes");
  });

  test("the confirm marker makes an empty or smaller prefix intended, at start too", () => {
    expect(judgeKvState(state(101, 0, { confirmed: true }), base, P)).toBeUndefined();
    expect(judgeKvState(state(5, 0, { confirmed: true }), undefined, P)).toBeUndefined();
    expect(judgeKvState(state(12, 2, { confirmed: true }), base, P, true)).toBeUndefined();
  });

  test("nothing is held once an empty mesh is what is live", () => {
    expect(judgeKvState(state(120, 0, { vanished: true }), { index: 110, documents: 0 }, P)).toBeUndefined();
  });

  test("index backwards with fewer documents is held; with as many it is not", () => {
    const held = judgeKvState(state(12, 2), base, P);
    expect(held?.reason).toBe("index-reset");
    expect(held?.message).toContain("from 100 to 12 with 2 of 4 documents");
    expect(judgeKvState(state(12, 4), base, P)).toBeUndefined();
    expect(judgeKvState(state(12, 5), base, P)).toBeUndefined();
  });

  test("fewer documents with the index forward: a deletion when nothing is held, a partial refill during a hold", () => {
    expect(judgeKvState(state(101, 3), base, P)).toBeUndefined();
    expect(judgeKvState(state(101, 3), base, P, true)?.reason).toBe("partial");
    expect(judgeKvState(state(101, 4), base, P, true)).toBeUndefined();
  });
});

describe("createKvGuard", () => {
  test("keeps the hold's start while the reason changes, counts holds, and takes the released state as baseline", () => {
    let t = 0;
    const g = createKvGuard(P, () => new Date(Date.UTC(2026, 0, 1, 0, 0, t++)));
    expect(g.check(state(50, 3))).toBeUndefined();
    const first = g.check(state(1, 0, { vanished: true }));
    expect(first).toMatchObject({ reason: "vanished", index: 1, documents: 0, lastGood: { index: 50, documents: 3 } });
    expect(g.check(state(9, 1))).toMatchObject({ reason: "index-reset", since: first!.since });
    expect(g.check(state(60, 2))).toMatchObject({ reason: "partial", since: first!.since });
    expect(g.holds()).toBe(1);
    expect(g.check(state(61, 3))).toBeUndefined();
    expect(g.held()).toBeUndefined();
    // Released at 61 with 3 documents: a later deletion moves forward and applies; emptying is held again.
    expect(g.check(state(62, 2))).toBeUndefined();
    expect(g.check(state(63, 0))?.reason).toBe("empty");
    expect(g.holds()).toBe(2);
  });

  test("a recursive delete then a smaller refill stays held until confirmed; the confirmed state is the new baseline", () => {
    const g = createKvGuard(P);
    g.check(state(50, 4));
    expect(g.check(state(51, 0, { vanished: true }))?.reason).toBe("vanished");
    expect(g.check(state(55, 2))?.reason).toBe("partial");
    expect(g.check(state(56, 2, { confirmed: true }))).toBeUndefined();
    expect(g.check(state(57, 2))).toBeUndefined(); // the marker removed later: 2 is now the baseline
  });

  test("a wait at start is reported but not counted as a hold of live config", () => {
    const g = createKvGuard(P);
    expect(g.check(state(1, 0, { vanished: true }))?.lastGood).toBeUndefined();
    expect(g.holds()).toBe(0);
    expect(g.check(state(3, 1))).toBeUndefined();
  });
});
