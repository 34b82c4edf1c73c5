// Unit tests for `meshctl explain`: route, split, policy, fast path and authorization of one dry-run request.
// The config comes from deploy/examples/demo.yaml plus small inline configs.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { parseMeshConfig } from "../shared/config/parse.ts";
import type { MeshConfig } from "../shared/config/schema.ts";
import { explain, fastPathOf, formatExplain } from "./explain.ts";

const demo = await (async () => {
  const file = join(import.meta.dir, "../deploy/examples/demo.yaml");
  const p = await parseMeshConfig(await Bun.file(file).text(), file);
  if (!p.ok) throw new Error("demo.yaml invalid");
  return p.config;
})();

const input = { host: "echo", path: "/echo", method: "GET", headers: [], from: undefined, gateway: false };

describe("explain", () => {
  test("demo: echo-split with v1 80 / v2 20 and retries, taken by the fast path", () => {
    const e = explain(demo, input);
    expect(e.outcome).toBe("routed");
    expect(e.route).toBe("echo-split");
    expect(e.split.map((d) => [d.cluster, d.weight, d.percent])).toEqual([["echo/v1", 80, 80], ["echo/v2", 20, 20]]);
    expect(e.split[0]!.policy.retries).toMatchObject({ retries: 3, on: ["connect-failure", "reset", "503"] });
    expect(e.split[0]!.policy.timeoutMs).toBe(5000);
    expect(e.split[0]!.endpoints.config).toEqual(["echo-v1 127.0.0.1:9101"]);
    expect(e.fastPath).toEqual({ fast: true, reason: "a split over 2 destinations, with a timeout and retries (requests with a body take the full path, which replays them)" });
    expect(formatExplain(e)).toContain("→ echo/v1  weight 80 (80%)");
  });

  test("no route: outcome no-route with the reason per route", () => {
    const e = explain(demo, { ...input, host: "nope" });
    expect(e.outcome).toBe("no-route");
    expect(formatExplain(e)).toContain('✘ echo-split: host "nope" is not one of echo');
  });

  test("gateway table: rewrite gives the upstream path; authorization with --from; passing instances from Consul", () => {
    const passing = new Map([["web", [{ id: "web-9", address: "10.0.0.9", port: 9, tags: [], meta: {} }]]]);
    const e = explain(demo, { ...input, host: "gw", path: "/web/items", gateway: true, from: "web" }, passing);
    expect(e.route).toBe("web");
    expect(e.upstreamPath).toBe("/items");
    expect(e.split[0]!.endpoints.consul).toEqual(["web-9 10.0.0.9:9"]);
    expect(e.authorization).toEqual([{ service: "web", allowed: true, rule: undefined, reason: expect.any(String) }]);
  });

  test("a deny at the destination makes the outcome denied", () => {
    const config: MeshConfig = { ...demo, authorization: { echo: { default: "deny" } } };
    const e = explain(config, { ...input, from: "web" });
    expect(e.outcome).toBe("denied");
    expect(formatExplain(e)).toContain("authorization at echo: DENY");
  });

  test("a refused path", () => {
    expect(explain(demo, { ...input, path: "/a/%2e%2e/%2e%2e/x" }).outcome).toBe("refused");
  });
});

describe("fastPathOf", () => {
  test("one destination and no filters is fast; retries or a fault are not", () => {
    const services = { echo: {} };
    const base = { name: "r", action: { destinations: [{ service: "echo" }] } };
    expect(fastPathOf(base, services).fast).toBe(true);
    expect(fastPathOf({ ...base, action: { ...base.action, policy: { retries: { attempts: 1 } } } }, services).reason).toBe("one destination, with a timeout and retries (requests with a body take the full path, which replays them)");
    expect(fastPathOf({ ...base, action: { ...base.action, policy: { loadBalancer: "maglev", hashOn: { header: "x-u" } } } } as never, services).reason).toBe("one destination, with a timeout and maglev affinity");
    expect(fastPathOf({ ...base, action: { ...base.action, policy: { fault: { abort: { status: 503, percent: 1 } } } } } as never, services).reason).toBe("one destination, with a timeout and a fault (a request it targets takes the full path)");
    expect(fastPathOf({ ...base, action: { ...base.action, policy: { rateLimit: { requestsPerSecond: 5 } } } } as never, services).reason).toBe("one destination, with a timeout and a rate limit (a request without a token takes the full path: 429)");
    expect(fastPathOf({ ...base, action: { ...base.action, mirror: { service: "echo" } } } as never, services)).toEqual({ fast: false, reason: "the route mirrors traffic" });
    expect(fastPathOf({ ...base, action: { ...base.action, mirror: { service: "echo", percent: 0 } } } as never, services).fast).toBe(true);
  });

  test("a split is fast when every destination is; a circuit breaker on any of them is not", () => {
    const split = { name: "r", action: { destinations: [{ service: "echo", weight: 90 }, { service: "next", weight: 10 }] } };
    expect(fastPathOf(split, { echo: {}, next: {} })).toEqual({ fast: true, reason: "a split over 2 destinations, each with nothing but a timeout before its cluster" });
    expect(fastPathOf(split, { echo: {}, next: { policy: { circuitBreaker: { maxConnections: 5 } } } }).reason).toBe("a split over 2 destinations, with a timeout and a circuit breaker (a request it has no room for takes the full path, which queues or refuses it)");
    expect(fastPathOf(split, { echo: {}, next: { policy: { retries: { attempts: 1, perTryTimeout: "2s" } } } }).fast).toBe(true);
    expect(fastPathOf(split, { echo: {} }).reason).toBe("unknown service next");
  });

  test("header edits are fast unless they touch host, framing, the request id or hop-by-hop fields", () => {
    const edit = (requestHeaders: object) => ({ name: "r", action: { destinations: [{ service: "echo" }], requestHeaders } });
    expect(fastPathOf(edit({ set: { "x-env": "prod" } }), { echo: {} }).fast).toBe(true);
    expect(fastPathOf(edit({ set: { Host: "other" } }), { echo: {} }).reason).toBe("the route edits host, framing, request-id or hop-by-hop headers");
  });
});
