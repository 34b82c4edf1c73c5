// Unit tests for subset selection: tags and meta must all match; no selector selects everything.
// Subsets drive canary/version routing, so a partial match must never slip through.
import { describe, expect, test } from "bun:test";
import { selectSubset } from "./subset.ts";
import { endpoint } from "../../test/support/endpoints.ts";

const eps = [
  endpoint("v1-a", { tags: ["v1", "blue"], meta: { version: "v1", zone: "a" } }),
  endpoint("v1-b", { tags: ["v1"], meta: { version: "v1", zone: "b" } }),
  endpoint("v2-a", { tags: ["v2", "blue"], meta: { version: "v2", zone: "a" } }),
];
const ids = (list: { id: string }[]) => list.map((e) => e.id);

describe("selectSubset", () => {
  test("no selector or an empty one selects all, as a fresh array", () => {
    const all = selectSubset(eps, undefined);
    expect(ids(all)).toEqual(["v1-a", "v1-b", "v2-a"]);
    expect(all).not.toBe(eps);
    expect(ids(selectSubset(eps, {}))).toEqual(["v1-a", "v1-b", "v2-a"]);
    expect(ids(selectSubset(eps, { tags: [], meta: {} }))).toEqual(["v1-a", "v1-b", "v2-a"]);
  });

  test("all tags must be present", () => {
    expect(ids(selectSubset(eps, { tags: ["v1"] }))).toEqual(["v1-a", "v1-b"]);
    expect(ids(selectSubset(eps, { tags: ["v1", "blue"] }))).toEqual(["v1-a"]);
    expect(ids(selectSubset(eps, { tags: ["v3"] }))).toEqual([]);
  });

  test("all meta values must be equal", () => {
    expect(ids(selectSubset(eps, { meta: { version: "v2" } }))).toEqual(["v2-a"]);
    expect(ids(selectSubset(eps, { meta: { version: "v1", zone: "b" } }))).toEqual(["v1-b"]);
    expect(ids(selectSubset(eps, { meta: { version: "v1", zone: "c" } }))).toEqual([]);
    expect(ids(selectSubset(eps, { meta: { missing: "" } }))).toEqual([]);
  });

  test("tags and meta together", () => {
    expect(ids(selectSubset(eps, { tags: ["blue"], meta: { zone: "a" } }))).toEqual(["v1-a", "v2-a"]);
    expect(ids(selectSubset(eps, { tags: ["blue"], meta: { version: "v1" } }))).toEqual(["v1-a"]);
  });

  test("inherited object keys are not meta", () => {
    expect(ids(selectSubset(eps, { meta: { toString: Object.prototype.toString as unknown as string } }))).toEqual([]);
  });
});
