// Unit tests of compileSnapshot: across reloads unchanged clusters (and balancer state) are kept and a compile that
// throws changes nothing; within one compile, routes with equal actions share a handler and each cluster is defined once.
import { describe, expect, test } from "bun:test";
import { compileSnapshot } from "./compile.ts";
import { checkMeshData } from "../config/parse.ts";
import { readPlainYaml } from "../config/yaml-text.ts";
import type { MeshConfig } from "../config/schema.ts";
import type { Forwarder, Snapshot } from "../proxy/snapshot.ts";
import type { RequestContext } from "../types.ts";
import { createClusterRegistry, type ClusterRegistry } from "../upstream/registry.ts";
import type { ManagedCluster } from "../upstream/cluster.ts";
import { endpoint } from "../../test/support/endpoints.ts";

const BASE = `
services:
  echo:
    mtls: disable
    instances: [{ id: e1, address: 127.0.0.1, port: 1, meta: { version: v1 } }, { id: e2, address: 127.0.0.1, port: 2 }]
    subsets: { v1: { meta: { version: v1 } } }
routes:
  - { name: api, match: { host: [api] }, action: { destinations: [{ service: echo }], policy: { loadBalancer: least_request } } }
`;
const EXTRA_ROUTE = `  - { name: canary, match: { host: [canary] }, action: { destinations: [{ service: echo, subset: v1 }] } }\n`;

function parse(text: string): MeshConfig {
  const parsed = checkMeshData(readPlainYaml(text)?.data, "test.yaml");
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.config;
}

const okForwarder: Forwarder = async () => new Response("ok");
const compile = (text: string, clusters: ClusterRegistry, forwarder: Forwarder = okForwarder): Snapshot =>
  compileSnapshot(parse(text), { version: 1, source: "test.yaml", forwarder: () => forwarder, clusters });
const cluster = (snap: Snapshot, key: string) => snap.clusters.get(key) as ManagedCluster;

function send(snap: Snapshot, host: string): Promise<Response> {
  const hit = snap.meshRoutes.match({ method: "GET", host, path: "/", headers: new Headers(), query: new URLSearchParams() });
  if (hit === undefined) throw new Error(`no route for ${host}`);
  const ctx: RequestContext = { requestId: "r", startedAt: 0, signal: new AbortController().signal, tried: new Set(), attempts: 0 };
  return hit.value.handler(new Request(`http://${host}/`), ctx);
}

describe("compileSnapshot with a cluster registry", () => {
  test("two successive configs share unchanged cluster objects, balancer state included", async () => {
    const reg = createClusterRegistry();
    const first = compile(BASE, reg);
    expect([...first.clusters.keys()].sort()).toEqual(["echo#least_request", "echo#round_robin"]);
    const rr = cluster(first, "echo#round_robin");
    expect(rr.balancer.pick()?.id).toBe("e1"); // turn moves on to e2
    const lr = cluster(first, "echo#least_request");
    lr.balancer.start(lr.endpoints()[0]!);

    const second = compile(BASE + EXTRA_ROUTE, reg); // a new route; the old clusters are defined as before
    expect(second.clusters.get("echo#round_robin")).toBe(rr);
    expect(second.clusters.get("echo#least_request")).toBe(lr);
    expect(second.clusters.get("echo/v1#round_robin")?.endpoints().map((e) => e.id)).toEqual(["e1"]);
    expect(rr.balancer.pick()?.id).toBe("e2");
    expect(lr.inFlight()).toBe(1);
    for (let i = 0; i < 10; i++) expect(lr.balancer.pick()?.id).toBe("e2");
    expect(reg.size).toBe(3);
  });

  test("without a registry every compile builds new clusters (as before)", () => {
    const a = compileSnapshot(parse(BASE), { version: 1, source: "t", forwarder: () => okForwarder });
    const b = compileSnapshot(parse(BASE), { version: 2, source: "t", forwarder: () => okForwarder });
    expect(b.clusters.get("echo#round_robin")).not.toBe(a.clusters.get("echo#round_robin"));
  });

  test("a changed subset selector rebuilds the cluster, keeping the endpoints discovery set", () => {
    const reg = createClusterRegistry();
    const old = cluster(compile(BASE + EXTRA_ROUTE, reg), "echo/v1#round_robin");
    old.setServiceEndpoints([endpoint("d1", { tags: ["blue"], meta: { version: "v1" } }), endpoint("d2", { meta: { version: "v2" } })]);
    const next = cluster(compile((BASE + EXTRA_ROUTE).replace("{ meta: { version: v1 } } }", "{ tags: [blue] } }"), reg), "echo/v1#round_robin");
    expect(next).not.toBe(old);
    expect(next.endpoints().map((e) => e.id)).toEqual(["d1"]);
  });

  test("a compile that throws leaves the registry as it was", () => {
    const reg = createClusterRegistry();
    const before = compile(BASE, reg);
    // Both weights 0: the split throws after the clusters were asked for.
    const bad = `${BASE.replace("loadBalancer: least_request", "loadBalancer: round_robin")}  - { name: zero, match: { host: [z] }, action: { destinations: [{ service: echo, weight: 0 }, { service: echo, subset: v1, weight: 0 }] } }\n`;
    expect(() => compile(bad, reg)).toThrow(/total weight/);
    expect(reg.get("echo#least_request")).toBe(cluster(before, "echo#least_request"));
    expect(reg.get("echo/v1#round_robin")).toBeUndefined();
    expect(reg.size).toBe(2);
  });

  test("a removed cluster leaves the registry at once; it is retired until its request finishes", async () => {
    const reg = createClusterRegistry();
    let finish: (r: Response) => void = () => {};
    const pending: Forwarder = () => new Promise<Response>((resolve) => (finish = resolve));
    const old = compile(BASE, reg, pending);
    const response = send(old, "api");
    const routeCluster = cluster(old, "echo#least_request");
    expect(routeCluster.inFlight()).toBe(1);

    compile(BASE.replace(", policy: { loadBalancer: least_request }", ""), reg); // the api route now uses round robin
    expect(reg.get("echo#least_request")).toBeUndefined();
    expect(reg.retired()).toBe(1);
    finish(new Response("late"));
    expect(await (await response).text()).toBe("late");
    expect(reg.retired()).toBe(0);
  });
});

describe("compileSnapshot shares what routes have in common", () => {
  const routes = (lines: string[]) => `${BASE}${lines.map((l) => `  - ${l}\n`).join("")}`;
  const hit = (snap: Snapshot, host: string, path = "/") =>
    snap.meshRoutes.match({ method: "GET", host, path, headers: new Headers(), query: new URLSearchParams() })!;
  const value = (snap: Snapshot, host: string, path = "/") => hit(snap, host, path).value;

  test("routes with equal actions share one compiled value, each keeps its name; rate limits and rewrites keep their own", () => {
    const snap = compile(routes([
      "{ name: a, match: { host: [a] }, action: { destinations: [{ service: echo }], policy: { timeout: 2s } } }",
      "{ name: b, match: { host: [b] }, action: { destinations: [{ service: echo }], policy: { timeout: 2s } } }",
      "{ name: c, match: { host: [c] }, action: { destinations: [{ service: echo }], policy: { timeout: 3s } } }",
      "{ name: d, match: { host: [d] }, action: { destinations: [{ service: echo }], policy: { timeout: 2s, rateLimit: { requestsPerSecond: 5 } } } }",
      "{ name: e, match: { host: [e] }, action: { destinations: [{ service: echo }], policy: { timeout: 2s, rateLimit: { requestsPerSecond: 5 } } } }",
      "{ name: f, match: { host: [f], path: { prefix: /f } }, action: { destinations: [{ service: echo }], rewrite: { prefix: / } } }",
      "{ name: g, match: { host: [g], path: { prefix: /g } }, action: { destinations: [{ service: echo }], rewrite: { prefix: / } } }",
    ]), createClusterRegistry());
    const [a, b, c, d, e, f, g] = ["a", "b", "c", "d", "e", "f", "g"].map((h) => value(snap, h, `/${h}`));
    expect(hit(snap, "a", "/a").name).toBe("a");
    expect(hit(snap, "b", "/b").name).toBe("b");
    expect(b).toBe(a!); // one value for both: what a 10,000-route table to one service holds once
    expect(b!.handler).toBe(a!.handler);
    expect(a!.fast).toBeDefined();
    expect(b!.fast).toBe(a!.fast);
    expect(c!.handler).not.toBe(a!.handler);
    expect(c!.fast?.destinations[0]!.timeoutMs).toBe(3000);
    expect(e!.handler).not.toBe(d!.handler); // each route's own buckets
    expect(g!.handler).not.toBe(f!.handler); // the rewrite reads the route's own prefix
  });

  test("routes with equal actions but their own trace sampling keep their own value, and share the handler", () => {
    const snap = compile(routes([
      "{ name: a, match: { host: [a] }, action: { destinations: [{ service: echo }] }, tracing: { sampling: 50 } }",
      "{ name: b, match: { host: [b] }, action: { destinations: [{ service: echo }] } }",
      "{ name: c, match: { host: [c] }, action: { destinations: [{ service: echo }] }, tracing: { sampling: 50 } }",
    ]), createClusterRegistry());
    const [a, b, c] = ["a", "b", "c"].map((h) => value(snap, h));
    expect([a!.traceSampling, b!.traceSampling, c!.traceSampling]).toEqual([0.5, undefined, 0.5]);
    expect(b).not.toBe(a!);
    expect(c).toBe(a!);
    expect(b!.handler).toBe(a!.handler);
  });

  test("a shared handler still serves each route", async () => {
    const snap = compile(routes([
      "{ name: a, match: { host: [a] }, action: { destinations: [{ service: echo }] } }",
      "{ name: b, match: { host: [b] }, action: { destinations: [{ service: echo }] } }",
    ]), createClusterRegistry());
    expect(await (await send(snap, "a")).text()).toBe("ok");
    expect(await (await send(snap, "b")).text()).toBe("ok");
  });

  test("each cluster is defined once per compile, however many routes use it", () => {
    const reg = createClusterRegistry();
    let asked = 0;
    const counting: ClusterRegistry = {
      ...reg,
      begin() {
        const plan = reg.begin();
        return { ...plan, cluster: (d) => (asked += 1, plan.cluster(d)) };
      },
    };
    const many = Array.from({ length: 50 }, (_, i) => `{ name: r${i}, match: { host: [h${i}] }, action: { destinations: [{ service: echo }] } }`);
    const snap = compile(routes(many), counting);
    // echo#round_robin and echo#least_request (the api route): once each, not once per route and per use.
    expect(asked).toBe(2);
    expect(value(snap, "h49").fast?.destinations[0]!.cluster).toBe(snap.clusters.get("echo#round_robin") as ManagedCluster);
  });
});
