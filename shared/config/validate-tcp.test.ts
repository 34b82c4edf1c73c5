// TCP services (protocol: tcp) refuse what needs an HTTP request, with the exact path and reason users will see,
// in a whole file and in Consul KV documents; what does apply at L4 passes.
import { expect, test } from "bun:test";
import { parseMeshConfig } from "./parse.ts";
import { assembleKvDocuments } from "./kv-documents.ts";

type Json = Record<string, any>;

function base(): Json {
  return {
    services: {
      db: { protocol: "tcp", instances: [{ id: "db-1", address: "127.0.0.1", port: 9101 }] },
      api: { instances: [{ id: "api-1", address: "127.0.0.1", port: 9102 }] },
    },
    authorization: { db: { default: "deny", rules: [{ name: "api-in", action: "allow", from: ["api"] }] } },
  };
}

async function check(mutate: (c: Json) => void): Promise<string[]> {
  const c = base();
  mutate(c);
  const r = await parseMeshConfig(JSON.stringify(c), "t.yaml");
  return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`);
}

test("a TCP service with callers-only authorization, a balancer and outlier detection is valid; http is the default", async () => {
  expect(await check(() => {})).toEqual([]);
  expect(await check((c) => (c.services.db.policy = { loadBalancer: "least_request", outlierDetection: { consecutiveGatewayErrors: 3 } }))).toEqual([]);
  expect(await check((c) => (c.services.api.protocol = "http"))).toEqual([]);
  const r = await parseMeshConfig(JSON.stringify(base()), "t.yaml");
  expect(r.ok && r.config.services?.api?.protocol).toBeUndefined();
});

test("protocol is http or tcp", async () => {
  expect(await check((c) => (c.services.db.protocol = "udp"))).toEqual([expect.stringMatching(/^services\.db\.protocol: /)]);
});

test("mtls: permissive and disable are refused for a TCP service", async () => {
  expect(await check((c) => (c.services.db.mtls = "permissive"))).toEqual([
    "services.db.mtls: a TCP service cannot be permissive: a permissive inbound tells TLS from plaintext by sniffing HTTP, and a plaintext TCP caller would have no identity (use strict)",
  ]);
  expect(await check((c) => (c.services.db.mtls = "disable"))).toEqual(["services.db.mtls: not supported for TCP services yet: they are carried over mTLS only (use strict)"]);
  expect(await check((c) => (c.services.db.mtls = "strict"))).toEqual([]);
});

test("policies that need a request are refused, one issue each", async () => {
  const out = await check((c) => {
    c.services.db.policy = {
      timeout: "5s",
      retries: { attempts: 2 },
      fault: { abort: { status: 503 } },
      rateLimit: { requestsPerSecond: 10 },
      circuitBreaker: { maxConnections: 10 },
      connectTimeout: "1s",
      loadBalancer: "ring_hash",
      hashOn: { caller: true },
    };
  });
  expect(out).toEqual([
    "services.db.policy.timeout: a TCP service's connections are carried at L4, with no requests to apply it to (a connection lasts as long as the app keeps it)",
    "services.db.policy.retries: a TCP service's connections are carried at L4, with no requests to apply it to; a failed connect is tried once more on another endpoint by itself",
    "services.db.policy.fault: a TCP service's connections are carried at L4, with no requests to apply it to",
    "services.db.policy.rateLimit: a TCP service's connections are carried at L4, with no requests to apply it to",
    "services.db.policy.hashOn: a TCP service's connections are carried at L4, with no requests to apply it to to hash; use loadBalancer round_robin or least_request",
    "services.db.policy.connectTimeout: not applied to TCP services yet: their connects use the default 2s",
    "services.db.policy.circuitBreaker: not applied to TCP services yet: connections are not counted against a breaker",
    "services.db.policy.loadBalancer: ring_hash hashes a request key, and a TCP service's connections are carried at L4, with no requests to apply it to; use round_robin or least_request",
  ]);
});

test("subsets are refused: only routes pick them", async () => {
  expect(await check((c) => (c.services.db.subsets = { v1: { tags: ["v1"] } }))).toEqual([
    "services.db.subsets: subsets are picked by routes, and routes carry HTTP requests: a TCP service is reached as a whole",
  ]);
});

test("routes (mesh, gateway, mirror) that name a TCP service are refused", async () => {
  const why = 'is a TCP service (protocol: tcp): routes carry HTTP requests; callers reach it through their sidecar\'s --tcp-upstream db=PORT listener';
  expect(await check((c) => (c.routes = [{ name: "r", action: { destinations: [{ service: "api" }, { service: "db" }] } }]))).toEqual([`routes[0].action.destinations[1].service: "db" ${why}`]);
  expect(await check((c) => (c.routes = [{ name: "r", action: { destinations: [{ service: "api" }], mirror: { service: "db" } } }]))).toEqual([`routes[0].action.mirror.service: "db" ${why}`]);
  expect(await check((c) => (c.gateway = { listeners: [{ name: "h", port: 0 }], routes: [{ name: "g", action: { destinations: [{ service: "db" }] } }] }))).toEqual([
    `gateway.routes[0].action.destinations[0].service: "db" ${why}`,
  ]);
});

test("authorization rules of a TCP service can only name callers", async () => {
  const out = await check((c) => {
    c.authorization.db.rules.push({ name: "by-path", action: "deny", from: ["*"], paths: [{ prefix: "/admin" }], methods: ["POST"], headers: [{ name: "x-a", present: true }] });
  });
  expect(out).toEqual([
    "authorization.db.rules[1].paths: the service is protocol tcp: a connection has no paths, so its rules can only name callers (from)",
    "authorization.db.rules[1].methods: the service is protocol tcp: a connection has no methods, so its rules can only name callers (from)",
    "authorization.db.rules[1].headers: the service is protocol tcp: a connection has no headers, so its rules can only name callers (from)",
  ]);
  // The same rule on an HTTP service is fine.
  expect(await check((c) => (c.authorization.api = { rules: [{ name: "by-path", action: "deny", from: ["*"], paths: [{ prefix: "/admin" }] }] }))).toEqual([]);
});

test("Consul KV: a TCP service document is refused on its own; a route document naming it too", async () => {
  const lastGood = new Map<string, unknown>();
  const r = await assembleKvDocuments([
    { key: "mesh/services/db", value: "protocol: tcp\nmtls: permissive" },
    { key: "mesh/services/cache", value: "protocol: tcp" },
    { key: "mesh/routes/to-cache", value: "action: { destinations: [{ service: cache }] }" },
  ], "mesh/", lastGood);
  expect(r.issues.map((i) => `${i.source}: ${i.path}: ${i.message.slice(0, 40)}`)).toEqual([
    "mesh/services/db: mtls: a TCP service cannot be permissive: a pe",
    'mesh/routes/to-cache: action.destinations[0].service: "cache" is a TCP service (protocol: tcp)',
  ]);
  expect(Object.keys(r.config.services as object)).toEqual(["cache"]);
});
