// Unit tests for clusters: subset filtering of discovery updates and feeding the chosen balancer.
// Verifies the cluster never hands the balancer an endpoint outside its subset.
import { describe, expect, test } from "bun:test";
import { createCluster } from "./cluster.ts";
import { endpoint } from "../../test/support/endpoints.ts";

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
  });

  test("keeps only the subset and feeds it to the balancer", () => {
    const c = createCluster({ name: "echo/v1", service: "echo", subset: "v1", selector: { meta: { version: "v1" } }, spiffeId: "x", loadBalancer: "round_robin" });
    c.setServiceEndpoints(service);
    expect(c.endpoints().map((e) => e.id)).toEqual(["a", "c"]);
    const picked = new Set(Array.from({ length: 10 }, () => c.balancer.pick()?.id));
    expect([...picked].sort()).toEqual(["a", "c"]);
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
