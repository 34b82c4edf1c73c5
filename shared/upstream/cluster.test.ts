// Unit tests for clusters: subset filtering of discovery updates and feeding the chosen balancer.
// Verifies the cluster never hands the balancer an endpoint outside its subset.
import { outlierConfig } from "../../test/support/outlier.ts";
import { describe, expect, test } from "bun:test";
import { createCluster } from "./cluster.ts";
import { endpoint } from "../../test/support/endpoints.ts";
import type { Endpoint } from "../types.ts";
import type { OutlierConfig } from "./outlier-detection.ts";

const service = [
  endpoint("a", { meta: { version: "v1" } }),
  endpoint("b", { meta: { version: "v2" } }),
  endpoint("c", { meta: { version: "v1" } }),
];

describe("createCluster", () => {
  test("exposes identity fields and starts empty (pick -> undefined, caller fails fast)", () => {
    const c = createCluster({ name: "echo/v1", service: "echo", subset: "v1", spiffeId: "spiffe://mesh/ns/default/svc/echo", loadBalancer: "round_robin" });
    expect(c.name).toBe("echo/v1");
    expect(c.service).toBe("echo");
    expect(c.subset).toBe("v1");
    expect(c.spiffeId).toBe("spiffe://mesh/ns/default/svc/echo");
    expect(c.endpoints()).toEqual([]);
    expect(c.balancer.pick()).toBeUndefined();
    expect(c.pickable()).toBe(false);
  });

  test("keeps only the subset and feeds it to the balancer", () => {
    const c = createCluster({ name: "echo/v1", service: "echo", subset: "v1", selector: { meta: { version: "v1" } }, spiffeId: "x", loadBalancer: "round_robin" });
    c.setServiceEndpoints(service);
    expect(c.endpoints().map((e) => e.id)).toEqual(["a", "c"]);
    const picked = new Set(Array.from({ length: 10 }, () => c.balancer.pick()?.id));
    expect([...picked].sort()).toEqual(["a", "c"]);
    expect(c.pickable()).toBe(true);
    // The service still has "b", but not in this subset: nothing to pick, as the relay's planner must know.
    c.setServiceEndpoints([service[1]!]);
    expect(c.pickable()).toBe(false);
    expect(c.balancer.pick()).toBeUndefined();
  });

  test("no selector: the whole service; updates replace the set", () => {
    const c = createCluster({ name: "echo", service: "echo", spiffeId: "x", loadBalancer: "least_request" });
    expect(c.subset).toBeUndefined();
    c.setServiceEndpoints(service);
    expect(c.endpoints().map((e) => e.id)).toEqual(["a", "b", "c"]);
    c.setServiceEndpoints([endpoint("z")]);
    expect(c.endpoints().map((e) => e.id)).toEqual(["z"]);
    expect(c.balancer.pick()?.id).toBe("z");
    c.setServiceEndpoints([]);
    expect(c.balancer.pick()).toBeUndefined();
  });

  test("least_request cluster keeps in-flight state across updates", () => {
    const c = createCluster({ name: "echo", service: "echo", spiffeId: "x", loadBalancer: "least_request" });
    const [a, b] = [endpoint("a"), endpoint("b")];
    c.setServiceEndpoints([a, b]);
    c.balancer.start(a);
    c.setServiceEndpoints([a, b, endpoint("c")]);
    c.setServiceEndpoints([a, b]);
    for (let i = 0; i < 20; i++) expect(c.balancer.pick()?.id).toBe("b");
  });
});

describe("createCluster: in-flight attempts", () => {
  test("start/report pairs are counted; whenIdle fires now when idle, else on the last report", () => {
    const c = createCluster({ name: "echo", service: "echo", spiffeId: "x", loadBalancer: "round_robin" });
    const a = endpoint("a");
    c.setServiceEndpoints([a]);
    const fired: string[] = [];
    c.whenIdle(() => fired.push("now"));
    expect(fired).toEqual(["now"]);
    c.balancer.start(a);
    c.balancer.start(a);
    c.whenIdle(() => fired.push("later"));
    c.balancer.report(a, "success");
    expect(c.inFlight()).toBe(1);
    expect(fired).toEqual(["now"]);
    c.balancer.report(a, "timeout");
    expect(fired).toEqual(["now", "later"]);
    c.balancer.report(a, "success"); // unpaired: never negative, no second call
    expect(c.inFlight()).toBe(0);
    expect(fired).toEqual(["now", "later"]);
  });

  test("serviceEndpoints is the whole service list, endpoints only the subset", () => {
    const c = createCluster({ name: "echo/v1", service: "echo", subset: "v1", selector: { meta: { version: "v1" } }, spiffeId: "x", loadBalancer: "round_robin" });
    c.setServiceEndpoints(service);
    expect(c.serviceEndpoints().map((e) => e.id)).toEqual(["a", "b", "c"]);
    expect(c.endpoints().map((e) => e.id)).toEqual(["a", "c"]);
  });
});

// Outlier detection inside the cluster: ejections come from the start/report pairs the cluster handler makes, and
// the balancer only ever sees the endpoints that are not ejected (unless the cluster panics).
describe("createCluster: outlier detection", () => {
  const outlier = (o: Partial<OutlierConfig> = {}): OutlierConfig => outlierConfig({ consecutive5xx: 3, ...o });
  const [a, b, c] = [endpoint("a"), endpoint("b"), endpoint("c")];

  /** One attempt on `e` as the cluster handler makes it: start, then report with the answer's status. */
  function attempt(cl: ReturnType<typeof createCluster>, e: Endpoint, status: number): void {
    cl.balancer.start(e);
    cl.balancer.report(e, status >= 500 ? "http-5xx" : "success", status);
  }

  function withOutlier(o: Partial<OutlierConfig> = {}) {
    const cl = createCluster({ name: "echo", service: "echo", spiffeId: "x", loadBalancer: "round_robin" }, { breaker: undefined, outlier: outlier(o) });
    cl.setServiceEndpoints([a, b, c]);
    return cl;
  }

  const picks = (cl: ReturnType<typeof createCluster>, n = 30) => new Set(Array.from({ length: n }, () => cl.balancer.pick()?.id));

  test("consecutive 5xx eject the endpoint; pick() never returns it", () => {
    const cl = withOutlier();
    attempt(cl, a, 503);
    attempt(cl, a, 500);
    expect(cl.ejected().size).toBe(0); // two of three: not yet
    attempt(cl, a, 502);
    expect([...cl.ejected()]).toEqual(["a"]);
    expect([...picks(cl)].sort()).toEqual(["b", "c"]);
    // Even a retry that has tried every other endpoint is not sent to the ejected one.
    for (let i = 0; i < 10; i++) expect(cl.balancer.pick(new Set(["b", "c"]))?.id).not.toBe("a");
    expect(cl.stats().outlier).toMatchObject({ ejectionsTotal: 1, ejected: 1, panic: false });
    expect(cl.inFlight()).toBe(0);
    cl.stop();
  });

  test("a success in between resets the run", () => {
    const cl = withOutlier();
    attempt(cl, a, 503);
    attempt(cl, a, 503);
    attempt(cl, a, 200);
    attempt(cl, a, 503);
    attempt(cl, a, 503);
    expect(cl.ejected().size).toBe(0);
    cl.stop();
  });

  test("setServiceEndpoints keeps the ejection of an id that stays", () => {
    const cl = withOutlier();
    for (let i = 0; i < 3; i++) attempt(cl, a, 503);
    cl.setServiceEndpoints([a, b, c, endpoint("d")]);
    expect([...cl.ejected()]).toEqual(["a"]);
    expect([...picks(cl)].sort()).toEqual(["b", "c", "d"]);
    cl.setServiceEndpoints([c, a]);
    expect([...cl.ejected()]).toEqual(["a"]);
    expect([...picks(cl)]).toEqual(["c"]);
    cl.stop();
  });

  test("an ejected id that leaves and comes back starts clean", () => {
    const cl = withOutlier();
    for (let i = 0; i < 3; i++) attempt(cl, a, 503);
    cl.setServiceEndpoints([b, c]);
    expect(cl.ejected().size).toBe(0);
    cl.setServiceEndpoints([a, b, c]);
    expect(cl.ejected().size).toBe(0);
    expect([...picks(cl)].sort()).toEqual(["a", "b", "c"]);
    cl.stop();
  });

  test("panic (minHealthPercent 100 with one ejected) puts the ejected endpoint back into picks", () => {
    const cl = withOutlier({ minHealthPercent: 100 });
    for (let i = 0; i < 3; i++) attempt(cl, a, 503);
    expect(cl.stats().outlier).toMatchObject({ ejected: 1, panic: true });
    expect(cl.ejected().size).toBe(0);
    expect([...picks(cl)].sort()).toEqual(["a", "b", "c"]);
    cl.stop();
  });

  test("configure() moving the panic line applies at once, both ways", () => {
    const cl = withOutlier({ minHealthPercent: 0 });
    for (let i = 0; i < 3; i++) attempt(cl, a, 503);
    expect([...picks(cl)].sort()).toEqual(["b", "c"]);
    cl.configure({ breaker: undefined, outlier: outlier({ minHealthPercent: 100 }) });
    expect([...picks(cl)].sort()).toEqual(["a", "b", "c"]);
    cl.configure({ breaker: undefined, outlier: outlier({ minHealthPercent: 0 }) });
    expect([...picks(cl)].sort()).toEqual(["b", "c"]); // the ejection itself was kept through the panic
    cl.stop();
  });

  test("configure() removing outlier detection returns ejected endpoints; adding it later starts clean", () => {
    const cl = withOutlier();
    for (let i = 0; i < 3; i++) attempt(cl, a, 503);
    cl.configure({ breaker: undefined, outlier: undefined });
    expect(cl.ejected().size).toBe(0);
    expect(cl.stats().outlier).toBeUndefined();
    expect([...picks(cl)].sort()).toEqual(["a", "b", "c"]);
    cl.configure({ breaker: undefined, outlier: outlier() });
    expect(cl.stats().outlier).toMatchObject({ ejected: 0, endpoints: 3 });
    for (let i = 0; i < 3; i++) attempt(cl, b, 504);
    expect([...cl.ejected()]).toEqual(["b"]);
    expect([...picks(cl)].sort()).toEqual(["a", "c"]);
    cl.stop();
  });

  test("ejection applies within a subset cluster, to its own endpoints only", () => {
    const cl = createCluster({ name: "echo/v1", service: "echo", subset: "v1", selector: { meta: { version: "v1" } }, spiffeId: "x", loadBalancer: "least_request" }, { breaker: undefined, outlier: outlier() });
    cl.setServiceEndpoints(service);
    for (let i = 0; i < 3; i++) attempt(cl, service[0]!, 503);
    for (let i = 0; i < 3; i++) attempt(cl, service[1]!, 503); // "b" is not in the subset: ignored
    expect([...cl.ejected()]).toEqual(["a"]);
    expect([...picks(cl)]).toEqual(["c"]);
    cl.stop();
  });
});
