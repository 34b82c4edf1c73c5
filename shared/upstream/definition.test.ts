// Unit tests for cluster definitions: the canonical JSON behind identity, what identity covers, and the key.
// Identity decides whether a reload keeps a cluster's state, so equal configs must always compare equal.
import { describe, expect, test } from "bun:test";
import { canonicalJson, clusterKey, definitionIdentity } from "./definition.ts";
import { endpoint } from "../../test/support/endpoints.ts";

describe("canonicalJson", () => {
  test("key order does not matter; undefined members are dropped; arrays keep their order", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: "x" } })).toBe(canonicalJson({ a: { c: "x", d: [2, 1] }, b: 1 }));
    expect(canonicalJson({ a: 1, b: undefined })).toBe(canonicalJson({ a: 1 }));
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
    expect(canonicalJson([undefined, null])).toBe("[null,null]");
    expect(canonicalJson("q\"")).toBe(JSON.stringify("q\""));
  });
});

describe("definitionIdentity and clusterKey", () => {
  const base = { name: "echo/v1", service: "echo", subset: "v1", selector: { tags: ["v1"] }, spiffeId: "s", loadBalancer: "round_robin" as const };

  test("covers what the cluster is built from, not its static endpoints", () => {
    const id = definitionIdentity({ ...base, staticEndpoints: [endpoint("a")] });
    expect(definitionIdentity({ ...base, staticEndpoints: [] })).toBe(id);
    expect(definitionIdentity({ ...base, selector: { tags: ["v2"] }, staticEndpoints: [] })).not.toBe(id);
    expect(definitionIdentity({ ...base, spiffeId: "t", staticEndpoints: [] })).not.toBe(id);
    expect(definitionIdentity({ ...base, loadBalancer: "least_request", staticEndpoints: [] })).not.toBe(id);
    expect(definitionIdentity({ ...base, subset: undefined, staticEndpoints: [] })).not.toBe(id);
  });

  test("the key is name and balancer, as in Snapshot.clusters", () => {
    expect(clusterKey(base)).toBe("echo/v1#round_robin");
  });
});
