// Unit tests of the inbound fast path's head decisions (pure: no sockets): what is relayed, with which fields, and
// everything that must fall back to the full path (refusals, denials, requests the inbound policy acts on).
import { describe, expect, test } from "bun:test";
import { createRelayPlanner, type RelayHead } from "./inbound-relay-plan.ts";
import { compileAuthorizer } from "../filters/authorization.ts";
import { FieldList } from "../http/field-list.ts";
import type { InboundPolicy } from "./snapshot.ts";
import type { PolicyConfig } from "../config/schema.ts";
import { compileInboundPolicy } from "../build/inbound-policy.ts";
import { createKeyedBuckets } from "../upstream/token-bucket.ts";

const LIMITS = { maxHeaderBytes: 16384, maxUriLength: 64, maxBodyBytes: 1024, headerTimeoutMs: 1, idleTimeoutMs: 1, bodyIdleTimeoutMs: 1, bodyTimeoutMs: 1, drainTimeoutMs: 1 };
const PEER = "spiffe://t.test/ns/default/svc/web";
const head = (target: string, fields: Array<[string, string]>, connection?: Set<string>): RelayHead => ({ method: "GET", target, fields, connection });
const planner = (o: { policy?: InboundPolicy; deny?: boolean; limits?: typeof LIMITS } = {}) =>
  createRelayPlanner({
    limits: () => o.limits ?? LIMITS,
    authorizer: () => (o.deny === undefined ? undefined : compileAuthorizer("api", { rules: [{ name: "r1", action: o.deny ? "deny" : "allow", from: ["web"] }] }, "deny", "t.test")),
    policy: () => o.policy,
    traceSampling: () => 0,
  });

describe("relay planner", () => {
  test("rewrites the head as the full path would: identity, request id, forwarding, hop-by-hop out", () => {
    const p = planner()(head("/x?y=1", [["host", "api"], ["x-mesh-client-id", "spiffe://evil"], ["connection", "x-a"], ["x-a", "1"], ["content-length", "3"], ["x-mesh-absent", "user-agent"], ["user-agent", "bun"], ["x-forwarded-for", "10.0.0.1"]], new Set(["x-a"])), PEER);
    expect(p).toBeDefined();
    const f = new FieldList(p!.fields);
    expect(p!.target).toBe("/x?y=1");
    expect(f.get("x-mesh-client-id")).toBe(PEER);
    expect(f.has("x-a") || f.has("connection") || f.has("content-length") || f.has("x-mesh-absent")).toBe(false);
    expect(f.has("user-agent")).toBe(false); // the calling member's client invented it
    expect(f.get("x-request-id")).toBe(p!.requestId);
    expect(f.get("x-forwarded-for")).toBe("10.0.0.1"); // from a verified member: kept
    expect(f.get("x-forwarded-proto")).toBe("https");
  });

  test("the head stays as parsed (the full path may still need it): its pairs are shared with the plan, never edited", () => {
    const fields: Array<[string, string]> = [["host", "api"], ["x-mesh-client-id", "spiffe://evil"], ["x-request-id", "bad id"], ["user-agent", "bun"], ["x-forwarded-for", "10.0.0.1"]];
    const before = JSON.stringify(fields);
    const pairs = [...fields];
    const h = head("/x", fields);
    const p = planner()(h, PEER);
    expect(p).toBeDefined();
    expect(p!.fields).not.toBe(h.fields);
    expect(JSON.stringify(h.fields)).toBe(before);
    for (let i = 0; i < pairs.length; i++) expect(h.fields[i]).toBe(pairs[i]!);
    // The pairs it forwards unchanged are the head's own objects; the edited ones are new pairs.
    expect(p!.fields).toContain(pairs[0]!);
    expect(p!.fields.find((f) => f[0] === "x-mesh-client-id")).toEqual(["x-mesh-client-id", PEER]);
  });

  test("a plaintext caller: no identity, no forwarded-for taken as fact, no absent-marking honoured", () => {
    const p = planner()(head("/", [["host", "api"], ["x-forwarded-for", "1.2.3.4"], ["x-mesh-absent", "user-agent"], ["user-agent", "curl"]]), undefined);
    const f = new FieldList(p!.fields);
    expect(f.has("x-mesh-client-id") || f.has("x-forwarded-for")).toBe(false);
    expect(f.get("user-agent")).toBe("curl");
    expect(f.get("x-forwarded-proto")).toBe("http");
  });

  test("a well-formed incoming request id is kept; a bad one replaced", () => {
    expect(planner()(head("/", [["host", "a"], ["x-request-id", "abc-1"]]), PEER)!.requestId).toBe("abc-1");
    expect(planner()(head("/", [["host", "a"], ["x-request-id", "a b"]]), PEER)!.requestId).not.toBe("a b");
  });

  test("falls back to the full path for L7 policy, refusals and denials", () => {
    expect(planner()(head("/a/../b", [["host", "a"]]), PEER)).toBeUndefined();
    expect(planner()(head("/a//b", [["host", "a"]]), PEER)).toBeUndefined();
    expect(planner()(head(`/${"x".repeat(80)}`, [["host", "a"]]), PEER)).toBeUndefined();
    expect(planner({ limits: { ...LIMITS, maxHeaderBytes: 40 } })(head("/", [["host", "a"], ["x-big", "y".repeat(50)]]), PEER)).toBeUndefined();
    expect(planner({ deny: true })(head("/", [["host", "a"]]), PEER)).toBeUndefined();
    expect(planner({ deny: false })(head("/", [["host", "a"]]), undefined)).toBeUndefined(); // default deny, no identity
  });

  test("an allowing rule is recorded for the access log", () => {
    expect(planner({ deny: false })(head("/", [["host", "a"]]), PEER)!.authz).toEqual({ allowed: true, rule: "r1" });
  });
});

describe("relay planner: the service's inbound policy, decided per head", () => {
  const policyOf = (p: PolicyConfig): InboundPolicy =>
    compileInboundPolicy(p, { trustDomain: "t.test", namespace: "default", service: "api", instance: "i-1", buckets: (_k, c) => createKeyedBuckets(c) })!;
  const plain = head("/", [["host", "a"]]);

  test("a fault sends the requests it targets (headers, caller) to the full path and relays the rest", () => {
    const byHeader = policyOf({ fault: { abort: { status: 503 }, when: { headers: [{ name: "x-chaos", exact: "1" }] } } });
    expect(planner({ policy: byHeader })(plain, PEER)).toBeDefined();
    expect(planner({ policy: byHeader })(head("/", [["host", "a"], ["x-chaos", "1"]]), PEER)).toBeUndefined();
    const byCaller = policyOf({ fault: { delay: { fixed: "1s" }, when: { from: ["web"] } } });
    expect(planner({ policy: byCaller })(plain, PEER)).toBeUndefined();
    expect(planner({ policy: byCaller })(plain, "spiffe://t.test/ns/default/svc/other")).toBeDefined();
    expect(planner({ policy: policyOf({ fault: { abort: { status: 503, percent: 0 } } }) })(plain, PEER)).toBeDefined();
  });

  test("a rate limit: relayed requests take the tokens; without one, the full path answers (429)", () => {
    const policy = policyOf({ rateLimit: { requestsPerSecond: 0.001, burst: 2 } });
    expect([1, 2, 3].map(() => planner({ policy })(plain, PEER) !== undefined)).toEqual([true, true, false]);
  });

  test("per-caller buckets by verified identity; a plaintext caller's bucket is the full path's to key", () => {
    const policy = policyOf({ rateLimit: { requestsPerSecond: 0.001, burst: 1, key: { caller: true } } });
    expect(planner({ policy })(plain, PEER)).toBeDefined();
    expect(planner({ policy })(plain, PEER)).toBeUndefined();
    expect(planner({ policy })(plain, "spiffe://t.test/ns/default/svc/other")).toBeDefined();
    expect(planner({ policy })(plain, undefined)).toBeUndefined();
  });

  test("a denied request, or one the fault targets, takes no token (the full path takes it, once)", () => {
    const policy = policyOf({ rateLimit: { requestsPerSecond: 0.001, burst: 1 }, fault: { abort: { status: 503 }, when: { headers: [{ name: "x-chaos", exact: "1" }] } } });
    expect(planner({ policy, deny: true })(plain, PEER)).toBeUndefined();
    expect(planner({ policy })(head("/", [["host", "a"], ["x-chaos", "1"]]), PEER)).toBeUndefined();
    expect(planner({ policy })(plain, PEER)).toBeDefined();
    expect(planner({ policy })(plain, PEER)).toBeUndefined();
  });
});

describe("FieldList", () => {
  test("behaves as Headers for get/set/delete/has on lower-case names", () => {
    const f = new FieldList([["a", "1"], ["b", "2"], ["a", "3"]]);
    expect(f.get("a")).toBe("1, 3");
    expect(f.get("z")).toBeNull();
    f.set("a", "4");
    expect(f.fields).toEqual([["b", "2"], ["a", "4"]]);
    f.delete("b");
    expect(f.has("b")).toBe(false);
    expect(f.fields).toEqual([["a", "4"]]);
  });
});
