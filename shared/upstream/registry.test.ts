// Unit tests for the cluster registry: what a reload keeps, rebuilds and forgets, and that a failed or stale
// reload changes nothing. Balancer state is observed through the balancers themselves (RR turn, P2C counts).
import { outlierConfig } from "../../test/support/outlier.ts";
import { describe, expect, test } from "bun:test";
import { createClusterRegistry } from "./registry.ts";
import type { ClusterDefinition } from "./definition.ts";
import { endpoint } from "../../test/support/endpoints.ts";
import type { BreakerLimits } from "./circuit-breaker.ts";
import type { ManagedCluster } from "./cluster.ts";
import type { OutlierConfig } from "./outlier-detection.ts";

const eps = [endpoint("a", { meta: { version: "v1" } }), endpoint("b", { meta: { version: "v2" } }), endpoint("c", { meta: { version: "v1" } })];

function def(extra: Partial<ClusterDefinition> = {}): ClusterDefinition {
  return { name: "echo", service: "echo", spiffeId: "spiffe://mesh/ns/default/svc/echo", loadBalancer: "round_robin", staticEndpoints: eps, ...extra };
}

const ids = (list: readonly { id: string }[]) => list.map((e) => e.id);

describe("cluster registry: unchanged definitions", () => {
  test("same object across reloads; round-robin turn survives", () => {
    const reg = createClusterRegistry();
    const first = reg.reconcile([def()]).get("echo#round_robin")!;
    expect(first.balancer.pick()?.id).toBe("a");
    // The reload also adds another cluster (as a new route would): the unchanged one is kept as it is.
    const again = reg.reconcile([def(), def({ name: "other", service: "other", spiffeId: "x" })]);
    expect(again.get("echo#round_robin")).toBe(first);
    expect(first.balancer.pick()?.id).toBe("b");
    expect(reg.size).toBe(2);
    expect(reg.retired()).toBe(0);
  });

  test("least-request in-flight counts and discovered endpoints survive a reload", () => {
    const reg = createClusterRegistry();
    const c = reg.reconcile([def({ loadBalancer: "least_request" })]).get("echo#least_request")!;
    const discovered = [endpoint("x"), endpoint("y")];
    c.setServiceEndpoints(discovered);
    c.balancer.start(discovered[0]!);
    expect(reg.reconcile([def({ loadBalancer: "least_request" })]).get("echo#least_request")).toBe(c);
    expect(ids(c.endpoints())).toEqual(["x", "y"]); // the config's static list did not change, so it is not re-applied
    expect(c.inFlight()).toBe(1);
    for (let i = 0; i < 20; i++) expect(c.balancer.pick()?.id).toBe("y");
  });

  test("changed static instances are applied in place, keeping state of the instances that stay", () => {
    const reg = createClusterRegistry();
    const c = reg.reconcile([def({ loadBalancer: "least_request" })]).get("echo#least_request")!;
    c.balancer.start(eps[0]!);
    const plan = reg.begin();
    expect(plan.cluster(def({ loadBalancer: "least_request", staticEndpoints: [eps[0]!, endpoint("d")] }))).toBe(c);
    expect(ids(c.endpoints())).toEqual(["a", "b", "c"]); // nothing live changes before commit
    plan.commit();
    expect(ids(c.endpoints())).toEqual(["a", "d"]);
    for (let i = 0; i < 20; i++) expect(c.balancer.pick()?.id).toBe("d");
  });
});

describe("cluster registry: changed definitions", () => {
  const changes: Array<[string, Partial<ClusterDefinition>]> = [
    ["subset selector", { selector: { meta: { version: "v1" } } }],
    ["SPIFFE id", { spiffeId: "spiffe://other/ns/default/svc/echo" }],
  ];
  for (const [what, change] of changes) {
    test(`${what}: a new object, discovered endpoints carried over`, () => {
      const reg = createClusterRegistry();
      const old = reg.reconcile([def()]).get("echo#round_robin")!;
      const discovered = [endpoint("a", { meta: { version: "v1" } }), endpoint("z", { meta: { version: "v2" } })];
      old.setServiceEndpoints(discovered);
      const next = reg.reconcile([def(change)]).get("echo#round_robin")!;
      expect(next).not.toBe(old);
      expect(next.serviceEndpoints()).toEqual(discovered);
      expect(ids(next.endpoints())).toEqual(change.selector === undefined ? ["a", "z"] : ["a"]);
      expect(reg.get("echo#round_robin")).toBe(next);
      expect(reg.size).toBe(1);
    });
  }

  test("load balancer kind: a new cluster under the new key, endpoints carried over, the old one forgotten", () => {
    const reg = createClusterRegistry();
    const old = reg.reconcile([def()]).get("echo#round_robin")!;
    old.setServiceEndpoints([endpoint("z")]);
    const next = reg.reconcile([def({ loadBalancer: "least_request" })]).get("echo#least_request")!;
    expect(ids(next.endpoints())).toEqual(["z"]);
    expect(reg.get("echo#round_robin")).toBeUndefined();
    expect(reg.size).toBe(1);
  });

  test("changed static instances too: the new cluster starts from the new static list", () => {
    const reg = createClusterRegistry();
    reg.reconcile([def()]).get("echo#round_robin")!.setServiceEndpoints([endpoint("stale")]);
    const next = reg.reconcile([def({ spiffeId: "y", staticEndpoints: [endpoint("new")] })]).get("echo#round_robin")!;
    expect(ids(next.endpoints())).toEqual(["new"]);
  });

  test("a replaced cluster with attempts in flight is retired until they report", () => {
    const reg = createClusterRegistry();
    const old = reg.reconcile([def()]).get("echo#round_robin")!;
    const e = old.balancer.pick()!;
    old.balancer.start(e);
    reg.reconcile([def({ spiffeId: "y" })]);
    expect(reg.retired()).toBe(1);
    old.balancer.report(e, "success");
    expect(reg.retired()).toBe(0);
  });
});

describe("cluster registry: removed clusters", () => {
  test("none in flight: gone at once", () => {
    const reg = createClusterRegistry();
    reg.reconcile([def(), def({ name: "echo/v1", subset: "v1", selector: { meta: { version: "v1" } } })]);
    reg.reconcile([def()]);
    expect(reg.get("echo/v1#round_robin")).toBeUndefined();
    expect(reg.size).toBe(1);
    expect(reg.retired()).toBe(0);
  });

  test("attempts in flight: out of the registry at once, retired until the last one reports, still usable meanwhile", () => {
    const reg = createClusterRegistry();
    const c = reg.reconcile([def()]).get("echo#round_robin")!;
    const [e1, e2] = [c.balancer.pick()!, c.balancer.pick()!];
    c.balancer.start(e1);
    c.balancer.start(e2);
    reg.reconcile([]);
    expect(reg.get("echo#round_robin")).toBeUndefined();
    expect(reg.size).toBe(0);
    expect(reg.retired()).toBe(1);
    c.balancer.report(e1, "success");
    expect(reg.retired()).toBe(1);
    expect(c.balancer.pick()).toBeDefined(); // a retry of a request that holds the old snapshot still works
    c.balancer.report(e2, "reset");
    expect(reg.retired()).toBe(0);
  });

  test("a cluster re-added later starts fresh", () => {
    const reg = createClusterRegistry();
    const old = reg.reconcile([def({ loadBalancer: "least_request" })]).get("echo#least_request")!;
    old.setServiceEndpoints([endpoint("x")]);
    old.balancer.start(endpoint("x"));
    reg.reconcile([]);
    const fresh = reg.reconcile([def({ loadBalancer: "least_request" })]).get("echo#least_request")!;
    expect(fresh).not.toBe(old);
    expect(fresh.inFlight()).toBe(0);
    expect(ids(fresh.endpoints())).toEqual(["a", "b", "c"]); // the service was gone: static instances, not stale ones
    expect(reg.retired()).toBe(1); // the old one still drains on its own
  });
});

describe("cluster registry: plans", () => {
  test("an abandoned plan (a compile that threw) changes nothing", () => {
    const reg = createClusterRegistry();
    const c = reg.reconcile([def()]).get("echo#round_robin")!;
    const plan = reg.begin();
    plan.cluster(def({ spiffeId: "y", staticEndpoints: [endpoint("q")] }));
    plan.cluster(def({ name: "other", service: "other" }));
    expect(reg.get("echo#round_robin")).toBe(c);
    expect(reg.size).toBe(1);
    expect(reg.reconcile([def()]).get("echo#round_robin")).toBe(c);
  });

  test("a plan is stale once another commits; one definition per key", () => {
    const reg = createClusterRegistry();
    const late = reg.begin();
    reg.reconcile([def()]);
    expect(() => late.commit()).toThrow(/stale/);
    const plan = reg.begin();
    expect(plan.cluster(def())).toBe(plan.cluster(def()));
    expect(() => plan.cluster(def({ spiffeId: "y" }))).toThrow(/two different definitions/);
  });

  test("a staged cluster asked for again with the same definition object is not serialized again", () => {
    let reads = 0;
    const d = def();
    // canonicalJson reads the static endpoints for the key; definitionIdentity reads them to leave them out.
    Object.defineProperty(d, "staticEndpoints", { enumerable: true, get: () => (reads += 1, eps) });
    const plan = createClusterRegistry().begin();
    const c = plan.cluster(d);
    const afterFirst = reads;
    expect(afterFirst).toBeGreaterThan(0);
    for (let i = 0; i < 100; i++) expect(plan.cluster(d)).toBe(c);
    expect(reads).toBe(afterFirst);
    expect(plan.cluster(def())).toBe(c); // an equal definition in another object is compared, and is the same cluster
  });
});

// Resilience state is what a reload must not reset: an open breaker or an ejection survives a policy change, and
// rate limit buckets keep their levels while their key stays in use.
describe("cluster registry: resilience across reloads", () => {
  const outlier = (o: Partial<OutlierConfig> = {}): OutlierConfig => outlierConfig({ consecutive5xx: 2, ...o });
  const breaker = (l: Partial<BreakerLimits> = {}): BreakerLimits => ({ maxConnections: 1, maxPendingRequests: 0, maxRequests: 100, maxRetries: 3, ...l });
  const never = new AbortController().signal;

  /** Two consecutive 503s from "a": ejected under consecutive5xx 2. */
  function ejectA(c: ManagedCluster): void {
    for (let i = 0; i < 2; i++) {
      c.balancer.start(eps[0]!);
      c.balancer.report(eps[0]!, "http-5xx", 503);
    }
  }

  test("an ejection and breaker counts survive a reload that changes only resilience settings", () => {
    const reg = createClusterRegistry();
    const c = reg.reconcile([def({ resilience: { breaker: breaker(), outlier: outlier() } })]).get("echo#round_robin")!;
    ejectA(c);
    expect(c.breaker!.admit(never)).toBeUndefined(); // holds the only connection
    expect(c.breaker!.admit(never)).toBe("pending");
    const b = c.breaker;

    const again = reg.reconcile([def({ resilience: { breaker: breaker({ maxConnections: 2 }), outlier: outlier({ consecutive5xx: 9, baseEjectionMs: 60_000 }) } })]);
    expect(again.get("echo#round_robin")).toBe(c);
    expect(c.breaker).toBe(b);
    expect(c.breaker!.stats()).toMatchObject({ active: 1, overflows: { pending: 1 } });
    expect([...c.ejected()]).toEqual(["a"]);
    for (let i = 0; i < 20; i++) expect(c.balancer.pick()?.id).not.toBe("a");
    // The new limits are live: a second connection is now allowed next to the one still held.
    expect(c.breaker!.admit(never)).toBeUndefined();
    expect(c.breaker!.stats().active).toBe(2);
    expect(reg.retired()).toBe(0);
    c.stop();
  });

  test("new resilience settings apply at commit, not when the plan stages the cluster", () => {
    const reg = createClusterRegistry();
    const c = reg.reconcile([def({ resilience: { breaker: breaker(), outlier: outlier() } })]).get("echo#round_robin")!;
    expect(c.breaker!.admit(never)).toBeUndefined();
    const plan = reg.begin();
    expect(plan.cluster(def({ resilience: { breaker: breaker({ maxConnections: 5 }), outlier: outlier({ minHealthPercent: 100 }) } }))).toBe(c);
    expect(c.breaker!.admit(never)).toBe("pending"); // still the live limits
    ejectA(c);
    expect([...c.ejected()]).toEqual(["a"]); // and no panic line moved yet
    plan.commit();
    expect(c.breaker!.admit(never)).toBeUndefined();
    expect(c.ejected().size).toBe(0); // minHealthPercent 100 with one ejected: panic
    expect(c.stats().outlier).toMatchObject({ ejected: 1, panic: true });
    c.stop();
  });

  test("a reload dropping the settings removes breaker and ejections from the same cluster", () => {
    const reg = createClusterRegistry();
    const c = reg.reconcile([def({ resilience: { breaker: breaker(), outlier: outlier() } })]).get("echo#round_robin")!;
    ejectA(c);
    expect(reg.reconcile([def()]).get("echo#round_robin")).toBe(c);
    expect(c.breaker).toBeUndefined();
    expect(c.ejected().size).toBe(0);
    expect(new Set(Array.from({ length: 9 }, () => c.balancer.pick()?.id))).toEqual(new Set(["a", "b", "c"]));
  });

  test("a new cluster (identity changed) starts with the definition's resilience and clean state", () => {
    const reg = createClusterRegistry();
    const old = reg.reconcile([def({ resilience: { breaker: breaker(), outlier: outlier() } })]).get("echo#round_robin")!;
    ejectA(old);
    const next = reg.reconcile([def({ spiffeId: "y", resilience: { breaker: breaker({ maxConnections: 3 }), outlier: outlier() } })]).get("echo#round_robin")!;
    expect(next).not.toBe(old);
    expect(next.ejected().size).toBe(0);
    expect(next.breaker!.stats().active).toBe(0);
    for (let i = 0; i < 3; i++) expect(next.breaker!.admit(never)).toBeUndefined();
    old.stop();
    next.stop();
  });

  test("buckets: the same object across plans while the key stays; a new one once a commit dropped the key", () => {
    const reg = createClusterRegistry();
    const cfg = { ratePerSecond: 1, burst: 2 };
    const p1 = reg.begin();
    const first = p1.buckets("route:r", cfg);
    expect(p1.buckets("route:r", cfg)).toBe(first); // asked twice in one plan (two listeners): one limiter
    p1.commit();
    expect(first.take("", 0)).toBe(0);
    expect(first.take("", 0)).toBe(0);
    expect(first.take("", 0)).toBeGreaterThan(0);

    const p2 = reg.begin();
    expect(p2.buckets("route:r", { ratePerSecond: 1, burst: 5 })).toBe(first);
    p2.commit();
    // Kept, with its level: still empty at the same instant, not refilled to the new burst.
    expect(first.take("", 0)).toBeGreaterThan(0);

    reg.begin().commit(); // a reload whose routes no longer ask for "route:r"
    const p4 = reg.begin();
    const fresh = p4.buckets("route:r", cfg);
    p4.commit();
    expect(fresh).not.toBe(first);
    expect(fresh.take("", 0)).toBe(0); // a new limiter starts full
  });

  test("buckets: keys are independent", () => {
    const reg = createClusterRegistry();
    const plan = reg.begin();
    const route = plan.buckets("route:r", { ratePerSecond: 1, burst: 1 });
    const inbound = plan.buckets("inbound:api", { ratePerSecond: 1, burst: 1 });
    plan.commit();
    expect(route).not.toBe(inbound);
    expect(route.take("", 0)).toBe(0);
    expect(inbound.take("", 0)).toBe(0);
  });

  test("buckets: a staged plan that is never committed does not reconfigure live buckets", () => {
    const reg = createClusterRegistry();
    const p1 = reg.begin();
    const live = p1.buckets("route:r", { ratePerSecond: 1, burst: 5 });
    p1.commit();
    for (let i = 0; i < 5; i++) expect(live.take("", 0)).toBe(0);

    const abandoned = reg.begin();
    expect(abandoned.buckets("route:r", { ratePerSecond: 1000, burst: 5 })).toBe(live);
    // 10 ms later: at 1/s no token yet; at the staged 1000/s there would be ten.
    expect(live.take("", 10)).toBeGreaterThan(0);

    // A plan that does commit applies its rate.
    const p3 = reg.begin();
    p3.buckets("route:r", { ratePerSecond: 1000, burst: 5 });
    p3.commit();
    expect(live.take("", 20)).toBe(0);
  });

  test("buckets: a stale plan's settings are never applied", () => {
    const reg = createClusterRegistry();
    const p1 = reg.begin();
    const live = p1.buckets("route:r", { ratePerSecond: 1, burst: 1 });
    p1.commit();
    expect(live.take("", 0)).toBe(0);
    const late = reg.begin();
    late.buckets("route:r", { ratePerSecond: 1000, burst: 1 });
    const winner = reg.begin();
    winner.buckets("route:r", { ratePerSecond: 1, burst: 1 });
    winner.commit();
    expect(() => late.commit()).toThrow(/stale/);
    expect(live.take("", 10)).toBeGreaterThan(0);
  });
});
