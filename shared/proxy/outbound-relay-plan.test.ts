// Unit tests of the outbound fast path's head decisions on compiled snapshots (pure: no sockets): which routes the
// relay takes, a weighted split drawn per request with the full path's weights, and the policies decided per head.
import { describe, expect, test } from "bun:test";
import { compileSnapshot } from "../build/compile.ts";
import { createOutboundPlanner, type OutboundHead } from "./outbound-relay-plan.ts";
import { FieldList } from "../http/field-list.ts";
import { hash32 } from "../upstream/hash-key.ts";
import type { HeaderOpsConfig, MeshConfig, RouteConfig } from "../config/schema.ts";

const TD = "plan.test";
const head = (target = "/x"): OutboundHead => ({ method: "GET", target, fields: [["host", "api"]], connection: undefined, host: "api", framing: { kind: "none" } });

function planner(routes: RouteConfig[], services: MeshConfig["services"] = {}) {
  const config: MeshConfig = {
    trustDomain: TD,
    services: {
      api: {
        instances: [
          { id: "api-1", address: "127.0.0.1", port: 9001, tags: ["v1"] },
          { id: "api-2", address: "127.0.0.1", port: 9002, tags: ["v2"] },
        ],
        subsets: { v1: { tags: ["v1"] }, v2: { tags: ["v2"] } },
      },
      ...services,
    },
    routes,
  };
  const snap = compileSnapshot(config, { version: 1, source: "test", forwarder: () => async () => new Response(null) });
  return Object.assign(createOutboundPlanner({ snapshot: () => snap, table: (s) => s.meshRoutes, proto: "http", trustForwarded: false }), { snap });
}

const split = (weights: [number, number], extra: Partial<RouteConfig["action"]> = {}): RouteConfig => ({
  name: "canary",
  match: { host: ["api"] },
  action: { destinations: [{ service: "api", subset: "v1", weight: weights[0] }, { service: "api", subset: "v2", weight: weights[1] }], ...extra },
});

/** How many of `n` plans went to each cluster. */
function draws(plan: ReturnType<typeof planner>, n: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const p = plan(head(), "127.0.0.1");
    expect(p).toBeDefined();
    out[p!.fast.cluster.name] = (out[p!.fast.cluster.name] ?? 0) + 1;
  }
  return out;
}

describe("outbound planner: weighted splits", () => {
  test("a canary split is relayed, each request drawn by weight", () => {
    const got = draws(planner([split([90, 10])]), 4000);
    // 400 expected on v2; the binomial's standard deviation is 19, so ±100 is more than 5 of them.
    expect(got["api/v2"]).toBeGreaterThan(300);
    expect(got["api/v2"]).toBeLessThan(500);
    expect(got["api/v1"]! + got["api/v2"]!).toBe(4000);
  });

  test("a zero-weight destination is never drawn; a lone destination with weight 0 still gets every request", () => {
    expect(draws(planner([split([0, 5])]), 500)).toEqual({ "api/v2": 500 });
    const lone: RouteConfig = { name: "lone", match: { host: ["api"] }, action: { destinations: [{ service: "api", subset: "v1", weight: 0 }] } };
    expect(draws(planner([lone]), 10)).toEqual({ "api/v1": 10 });
  });

  test("a rewrite or a mirror that copies requests takes the full path; a 0 % mirror doesn't", () => {
    expect(planner([split([50, 50], { mirror: { service: "api", subset: "v1" } })])(head(), undefined)).toBeUndefined();
    expect(planner([split([50, 50], { mirror: { service: "api", subset: "v1", percent: 1 } })])(head(), undefined)).toBeUndefined();
    expect(planner([{ ...split([50, 50], { rewrite: { prefix: "/v2/" } }), match: { host: ["api"], path: { prefix: "/x" } } }])(head(), undefined)).toBeUndefined();
    expect(planner([split([50, 50], { mirror: { service: "api", subset: "v1", percent: 0 } })])(head(), undefined)).toBeDefined();
  });

  test("a breaker with room is relayed; one without room on any destination sends the route to the full path, before any draw", () => {
    const services: MeshConfig["services"] = {
      web: { instances: [{ id: "w", address: "127.0.0.1", port: 9003 }], policy: { circuitBreaker: { maxConnections: 1, maxRequests: 1 } } },
    };
    const mixed: RouteConfig = { name: "mixed", match: { host: ["api"] }, action: { destinations: [{ service: "api", subset: "v1", weight: 99 }, { service: "web", weight: 1 }] } };
    const plan = planner([mixed], services);
    const first = plan(head(), undefined);
    expect(first).toBeDefined();
    // Draw until web comes up (weight 1 in 100): 400 draws missed it about once in 55 runs (0.99^400), which failed CI.
    let web: NonNullable<ReturnType<typeof plan>> | undefined;
    for (let i = 0; i < 10_000 && web === undefined; i++) {
      const p = plan(head(), undefined)!;
      if (p.fast.cluster.name === "web") web = p;
    }
    if (web === undefined) throw new Error("web was never drawn in 10,000 tries");
    expect(web.fast.cluster.breaker!.admitNow()).toBe(true); // one request in flight to web: its breaker is full
    for (let i = 0; i < 200; i++) expect(plan(head(), undefined)).toBeUndefined();
    web.fast.cluster.breaker!.release();
    expect(plan(head(), undefined)).toBeDefined();
    expect(web.fast.cluster.breaker!.stats().overflows).toEqual({ connections: 0, pending: 0, requests: 0, retries: 0 }); // the full path counts them
  });
});

describe("outbound planner: policies decided per head", () => {
  const route = (policy: NonNullable<RouteConfig["action"]["policy"]>): RouteConfig => ({ name: "p", match: { host: ["api"] }, action: { destinations: [{ service: "api" }], policy } });
  const withHeader = (name: string, value: string): OutboundHead => ({ ...head(), fields: [["host", "api"], [name, value]] });

  test("a fault sends only the requests it targets to the full path (which rolls its dice); a fault that can't fire sends none", () => {
    const plan = planner([route({ fault: { abort: { status: 503, percent: 50 }, when: { headers: [{ name: "X-Fault", exact: "on" }] } } })]);
    expect(plan(head(), undefined)).toBeDefined();
    expect(plan(withHeader("x-fault", "off"), undefined)).toBeDefined();
    expect(plan(withHeader("x-fault", "on"), undefined)).toBeUndefined();
    const everyone = planner([route({ fault: { delay: { fixed: "1ms", percent: 1 } } })]);
    expect(everyone(head(), undefined)).toBeUndefined();
    const never = planner([route({ fault: { abort: { status: 503, percent: 0 } } })]);
    expect(never(head(), undefined)).toBeDefined();
  });

  test("a fault's header condition sees the route's request header edits, as the full path's fault does", () => {
    const fault = { abort: { status: 503 }, when: { headers: [{ name: "x-env", exact: "canary" }] } };
    const edited: RouteConfig = { name: "p", match: { host: ["api"] }, action: { destinations: [{ service: "api" }], requestHeaders: { set: { "x-env": "canary" } }, policy: { fault } } };
    expect(planner([edited])(head(), undefined)).toBeUndefined();
    expect(planner([route({ fault })])(head(), undefined)).toBeDefined();
  });

  test("a rate limit takes a token per relayed request; without one the request goes to the full path, which answers 429", () => {
    const plan = planner([route({ rateLimit: { requestsPerSecond: 0.001, burst: 3 } })]);
    expect([0, 1, 2, 3, 4].map(() => plan(head(), undefined) !== undefined)).toEqual([true, true, true, false, false]);
  });

  test("a rate limit keyed by a header has a bucket per value, read before the route's header edits", () => {
    const keyed: RouteConfig = { name: "p", match: { host: ["api"] }, action: { destinations: [{ service: "api" }], requestHeaders: { set: { "x-user": "edited" } }, policy: { rateLimit: { requestsPerSecond: 0.001, burst: 1, key: { header: "X-User" } } } } };
    const plan = planner([keyed]);
    expect(plan(withHeader("x-user", "a"), undefined)).toBeDefined();
    expect(plan(withHeader("x-user", "a"), undefined)).toBeUndefined();
    expect(plan(withHeader("x-user", "b"), undefined)).toBeDefined();
  });

  test("requests the fault targets take no token from the relay (the full path takes it, once)", () => {
    const plan = planner([route({ rateLimit: { requestsPerSecond: 0.001, burst: 1 }, fault: { abort: { status: 503 }, when: { headers: [{ name: "x-fault", exact: "on" }] } } })]);
    expect(plan(withHeader("x-fault", "on"), undefined)).toBeUndefined();
    expect(plan(head(), undefined)).toBeDefined(); // the one token was still there
  });

  test("a destination without an endpoint sends the route to the full path before any token is taken or split drawn", () => {
    const api1 = { id: "api-1", address: "127.0.0.1", port: 9001, tags: [], meta: {} };
    const limited: RouteConfig = { name: "p", match: { host: ["api"] }, action: { destinations: [{ service: "gone" }], policy: { rateLimit: { requestsPerSecond: 0.001, burst: 1 } } } };
    const plan = planner([limited], { gone: { instances: [] } });
    // The full path answers 503 and takes the route's token itself: the relay must not have taken one already.
    expect(plan(head(), undefined)).toBeUndefined();
    [...plan.snap.clusters.values()].find((c) => c.name === "gone")!.setServiceEndpoints([api1]);
    expect(plan(head(), undefined)).toBeDefined();
    // A split with one empty side: the full path draws (and answers 503 for that side), so the relay draws nothing.
    const canary: RouteConfig = { name: "c", match: { host: ["api"] }, action: { destinations: [{ service: "api", weight: 50 }, { service: "gone", weight: 50 }] } };
    const both = planner([canary], { gone: { instances: [] } });
    for (let i = 0; i < 20; i++) expect(both(head(), undefined)).toBeUndefined();
  });

  test("ring-hash affinity on a header: the plan carries the key's hash (none without the key), as the hash filter sets it", () => {
    const plan = planner([route({ loadBalancer: "ring_hash", hashOn: { header: "X-Session" } })]);
    const a = plan(withHeader("x-session", "s-1"), undefined)!;
    expect(a.hash).toBe(hash32("s-1"));
    expect(plan(withHeader("x-session", "s-1"), undefined)!.hash).toBe(a.hash);
    expect(plan(head(), undefined)!.hash).toBeUndefined();
    const byCaller = planner([route({ loadBalancer: "maglev", hashOn: { caller: true } })]);
    expect(byCaller(head(), "10.0.0.7")!.hash).toBe(hash32("10.0.0.7"));
    const roundRobin = planner([route({ hashOn: { header: "x-session" } })]); // hashOn without a hashing balancer: no hash
    expect(roundRobin(withHeader("x-session", "s-1"), undefined)!.hash).toBeUndefined();
  });
});

describe("outbound planner: header edits", () => {
  const route = (action: Partial<RouteConfig["action"]>): RouteConfig => ({ name: "edits", match: { host: ["api"] }, action: { destinations: [{ service: "api" }], ...action } });

  test("request ops are applied after the hygiene, response ops travel with the plan", () => {
    const p = planner([route({ requestHeaders: { set: { "X-Env": "prod" }, add: { "x-tag": "mesh" }, remove: ["x-internal"] }, responseHeaders: { remove: ["server"] } })])(
      { ...head(), fields: [["host", "api"], ["x-internal", "secret"], ["x-tag", "app"]] },
      "127.0.0.1",
    );
    expect(p).toBeDefined();
    const f = new FieldList(p!.fields);
    expect(f.get("x-env")).toBe("prod");
    expect(f.get("x-tag")).toBe("app, mesh");
    expect(f.has("x-internal")).toBe(false);
    expect(f.get("x-request-id")).toBe(p!.requestId); // the hygiene still ran
    const response = new FieldList([["server", "app"], ["x-a", "1"]]);
    p!.responseEdit!(response);
    expect(response.fields).toEqual([["x-a", "1"]]);
  });

  test("ops on host, framing, the request id or hop-by-hop fields take the full path", () => {
    const cases: HeaderOpsConfig[] = [{ set: { Host: "other" } }, { remove: ["content-length"] }, { set: { "x-request-id": "mine" } }, { add: { connection: "close" } }, { remove: ["Transfer-Encoding"] }];
    for (const ops of cases) {
      expect(planner([route({ requestHeaders: ops })])(head(), undefined)).toBeUndefined();
      expect(planner([route({ responseHeaders: ops })])(head(), undefined)).toBeUndefined();
    }
    expect(planner([route({ responseHeaders: { set: { "x-frame-options": "DENY" } } })])(head(), undefined)).toBeDefined();
  });
});

describe("outbound planner: retries", () => {
  const withBody = (): OutboundHead => ({ ...head(), method: "PUT", framing: { kind: "length" } });

  test("a route with retries is relayed for body-less requests; one with a body takes the full path, which replays it", () => {
    const plan = planner([{ name: "r", match: { host: ["api"] }, action: { destinations: [{ service: "api" }], policy: { retries: { attempts: 2, on: ["5xx"] } } } }]);
    const p = plan(head(), undefined);
    expect(p?.fast.retry?.policy.attempts).toBe(3);
    expect(p?.fast.retry?.policy.on.has("5xx")).toBe(true);
    expect(plan(withBody(), undefined)).toBeUndefined();
  });

  test("a split where only one destination retries sends every request with a body to the full path, whatever the draw", () => {
    const services: MeshConfig["services"] = { web: { instances: [{ id: "w", address: "127.0.0.1", port: 9003 }], policy: { retries: { attempts: 1 } } } };
    const mixed: RouteConfig = { name: "mixed", match: { host: ["api"] }, action: { destinations: [{ service: "api", weight: 1 }, { service: "web", weight: 1 }] } };
    const plan = planner([mixed], services);
    for (let i = 0; i < 100; i++) expect(plan(withBody(), undefined)).toBeUndefined();
    expect(new Set(Array.from({ length: 200 }, () => plan(head(), undefined)!.fast.cluster.name))).toEqual(new Set(["api", "web"]));
  });

  test("a per-try timeout travels with the destination's retry policy", () => {
    const plan = planner([{ name: "r", match: { host: ["api"] }, action: { destinations: [{ service: "api" }], policy: { retries: { attempts: 2, perTryTimeout: "100ms" } } } }]);
    expect(plan(head(), undefined)?.fast.retry?.policy.perTryTimeoutMs).toBe(100);
  });
});
