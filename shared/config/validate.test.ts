// One failing example per semantic rule, asserting the exact path and message users will see.
// Each case starts from a valid base config and breaks one thing.
import { describe, expect, test } from "bun:test";
import type { MeshConfig } from "./schema.ts";
import { validateMeshConfig } from "./validate.ts";
import { parseMeshConfig } from "./parse.ts";

// Loosely typed on purpose: cases write whatever shapes they need, then the schema types them.
type Json = Record<string, any>;

function base(): Json {
  return {
    services: {
      echo: {
        instances: [
          { id: "echo-v1", address: "127.0.0.1", port: 9101, tags: ["v1"] },
          { id: "echo-v2", address: "127.0.0.1", port: 9102, tags: ["v2"] },
        ],
        subsets: { v1: { tags: ["v1"] }, v2: { tags: ["v2"] } },
      },
    },
    routes: [{ name: "r0", match: { path: { prefix: "/" } }, action: { destinations: [{ service: "echo", subset: "v1" }] } }],
    gateway: {
      listeners: [{ name: "http", port: 8080 }],
      routes: [{ name: "g0", action: { destinations: [{ service: "echo" }] } }],
    },
  };
}

/** Issues as `path: message` after one mutation of the base config (which must stay structurally valid). */
async function check(mutate: (c: Json) => void): Promise<string[]> {
  const c = base();
  mutate(c);
  const r = await parseMeshConfig(JSON.stringify(c), "t.yaml");
  if (r.ok) return [];
  return r.issues.map((i) => `${i.path}: ${i.message}`);
}

test("the base config is valid", async () => {
  expect(await check(() => {})).toEqual([]);
  expect(validateMeshConfig(base() as MeshConfig)).toEqual([]);
});

test("issues from validateMeshConfig leave source for the caller", async () => {
  const c = base();
  c.routes[0].action.destinations[0].service = "nope";
  const out = validateMeshConfig(c as MeshConfig);
  expect(out).toEqual([{ source: "", path: "routes[0].action.destinations[0].service", message: 'unknown service "nope" (declare it under services)' }]);
});

// The reason in parentheses is the JS engine's own wording (JavaScriptCore on Bun, V8 on Deno), so only its presence is checked.
describe("regexes compile", () => {
  test("path", async () => {
    expect(await check((c) => (c.routes[0].match.path = { regex: "(abc" }))).toEqual([
      expect.stringMatching(/^routes\[0\]\.match\.path\.regex: invalid regular expression \(.+\)$/),
    ]);
  });
  test("header", async () => {
    expect(await check((c) => (c.routes[0].match.headers = [{ name: "x-a", regex: "[a" }]))).toEqual([
      expect.stringMatching(/^routes\[0\]\.match\.headers\[0\]\.regex: invalid regular expression \(.+\)$/),
    ]);
  });
  test("query, in a gateway route", async () => {
    expect(await check((c) => (c.gateway.routes[0].match = { query: [{ name: "q", regex: "+" }] }))).toEqual([
      expect.stringMatching(/^gateway\.routes\[0\]\.match\.query\[0\]\.regex: invalid regular expression \(.+\)$/),
    ]);
  });
});

describe("header and query matches say one thing", () => {
  test("header with none", async () => {
    expect(await check((c) => (c.routes[0].match.headers = [{ name: "x-a" }]))).toEqual([
      "routes[0].match.headers[0]: needs exactly one of exact, prefix, regex or present (found none)",
    ]);
  });
  test("header with two", async () => {
    expect(await check((c) => (c.routes[0].match.headers = [{ name: "x-a", exact: "a", present: true }]))).toEqual([
      "routes[0].match.headers[0]: needs exactly one of exact, prefix, regex or present (found exact and present)",
    ]);
  });
  test("query with two", async () => {
    expect(await check((c) => (c.routes[0].match.query = [{ name: "q", exact: "a", regex: "a" }]))).toEqual([
      "routes[0].match.query[0]: needs exactly one of exact, regex or present (found exact and regex)",
    ]);
  });
});

describe("route actions", () => {
  test("exactly one of destinations, redirect, directResponse", async () => {
    expect(await check((c) => (c.routes[0].action.redirect = { path: "/x" }))).toEqual([
      "routes[0].action: needs exactly one of destinations, redirect or directResponse (found destinations and redirect)",
    ]);
    expect(await check((c) => (c.routes[0].action = {}))).toEqual([
      "routes[0].action: needs exactly one of destinations, redirect or directResponse (found none)",
    ]);
  });
  test("rewrite only with destinations", async () => {
    expect(await check((c) => (c.routes[0].action = { directResponse: { status: 200 }, rewrite: { prefix: "/" } }))).toEqual([
      "routes[0].action.rewrite: only allowed together with destinations",
    ]);
  });
  test("rewrite prefix starts with /", async () => {
    expect(await check((c) => (c.routes[0].action.rewrite = { prefix: "api" }))).toEqual(['routes[0].action.rewrite.prefix: must start with "/"']);
  });
  test("total weight > 0; a missing weight counts as 1", async () => {
    expect(await check((c) => (c.routes[0].action.destinations = [{ service: "echo", weight: 0 }, { service: "echo", weight: 0 }]))).toEqual([
      "routes[0].action.destinations: total weight must be greater than 0",
    ]);
    expect(await check((c) => (c.routes[0].action.destinations = [{ service: "echo", weight: 0 }, { service: "echo" }]))).toEqual([]);
  });
  test("destination service must be declared", async () => {
    expect(await check((c) => (c.gateway.routes[0].action.destinations[0].service = "nope"))).toEqual([
      'gateway.routes[0].action.destinations[0].service: unknown service "nope" (declare it under services)',
    ]);
  });
  test("destination subset must exist", async () => {
    expect(await check((c) => (c.routes[0].action.destinations[0].subset = "v3"))).toEqual([
      'routes[0].action.destinations[0].subset: service "echo" has no subset "v3"',
    ]);
  });
  test("path exact and prefix start with /", async () => {
    expect(await check((c) => (c.routes[0].match.path = { exact: "healthz" }))).toEqual(['routes[0].match.path.exact: must start with "/"']);
    expect(await check((c) => (c.routes[0].match.path = { prefix: "api" }))).toEqual(['routes[0].match.path.prefix: must start with "/"']);
    expect(await check((c) => (c.routes[0].match.path = { prefix: "/a/../b" }))).toEqual(['routes[0].match.path.prefix: can never match: dot-segment ".." is not allowed']);
    expect(await check((c) => (c.routes[0].match.path = { prefix: "/a//b", mergeSlashes: true }))).toEqual([
      "routes[0].match.path.prefix: can never match: empty path segment ('//') is not allowed",
    ]);
    expect((await check((c) => (c.routes[0].match.path = { exact: "/a%2Fb" })))[0]).toStartWith("routes[0].match.path.exact: can never match:");
    expect(await check((c) => (c.routes[0].match.host = ["echo:8080"]))).toEqual(["routes[0].match.host[0]: must not include a port: hosts are matched without it"]);
  });
});

describe("uniqueness", () => {
  test("route names within routes", async () => {
    expect(await check((c) => c.routes.push({ ...c.routes[0] }))).toEqual(['routes[1].name: duplicate route name "r0" (already used at routes[0].name)']);
  });
  test("route names within gateway.routes, but not across lists", async () => {
    expect(await check((c) => c.gateway.routes.push({ ...c.gateway.routes[0] }))).toEqual([
      'gateway.routes[1].name: duplicate route name "g0" (already used at gateway.routes[0].name)',
    ]);
    expect(await check((c) => (c.gateway.routes[0].name = "r0"))).toEqual([]);
  });
  test("listener names", async () => {
    expect(await check((c) => c.gateway.listeners.push({ name: "http", port: 8443 }))).toEqual([
      'gateway.listeners[1].name: duplicate listener name "http" (already used at gateway.listeners[0].name)',
    ]);
  });
  test("listener ports, except 0", async () => {
    expect(await check((c) => c.gateway.listeners.push({ name: "other", port: 8080 }))).toEqual([
      "gateway.listeners[1].port: port 8080 is already used by gateway.listeners[0].port",
    ]);
    expect(await check((c) => (c.gateway.listeners = [{ name: "a", port: 0 }, { name: "b", port: 0 }]))).toEqual([]);
  });
  test("instance ids within a service", async () => {
    expect(await check((c) => (c.services.echo.instances[1].id = "echo-v1"))).toEqual([
      'services.echo.instances[1].id: duplicate instance id "echo-v1" (already used at services.echo.instances[0].id)',
    ]);
  });
});

describe("policies", () => {
  const cluster = "belongs to the destination's clusters: set it in services.<name>.policy (every route to the service shares the cluster's breaker and ejections)";
  test("concurrency is refused with a pointer to the circuit breaker", async () => {
    expect(await check((c) => (c.routes[0].action.policy = { concurrency: null }))).toEqual([
      "routes[0].action.policy.concurrency: is not a policy kind of its own: use circuitBreaker.maxRequests (fail fast) or circuitBreaker.maxConnections with maxPendingRequests (a bounded queue)",
    ]);
  });
  test("every resilience kind is accepted where it belongs", async () => {
    expect(await check((c) => {
      c.services.echo.policy = {
        loadBalancer: "maglev", hashOn: { header: "x-user" },
        fault: { delay: { fixed: "10ms", percent: 5 }, abort: { status: 503, percent: 1 }, when: { headers: [{ name: "x-mesh-fault", exact: "on" }], from: ["echo"], instances: ["echo-v2"] } },
        circuitBreaker: { maxConnections: 10, maxPendingRequests: 5, maxRequests: 20, maxRetries: 2 },
        outlierDetection: { consecutive5xx: 3, consecutiveGatewayErrors: 2, interval: "1s", baseEjectionTime: "5s", maxEjectionTime: "1m", maxEjectionPercent: 50, minHealthPercent: 30 },
        rateLimit: { requestsPerSecond: 100, burst: 10, key: { caller: true } },
        retries: { attempts: 2, budget: { percent: 20, minRetriesPerSecond: 5, ttl: "10s" } },
      };
      c.routes[0].action.policy = { fault: { abort: { reset: true } }, rateLimit: { requestsPerSecond: 5, key: { header: "x-user" } }, loadBalancer: "ring_hash", hashOn: { cookie: "session" } };
      c.routes[0].action.mirror = { service: "echo", subset: "v2", percent: 10, maxBodyBytes: 1024 };
    })).toEqual([]);
  });
  test("cluster-level kinds are refused on routes", async () => {
    expect(await check((c) => (c.gateway.routes[0].action.policy = { outlierDetection: {}, circuitBreaker: {} }))).toEqual([
      `gateway.routes[0].action.policy.circuitBreaker: ${cluster}`,
      `gateway.routes[0].action.policy.outlierDetection: ${cluster}`,
    ]);
  });
  test("fault: something to inject, one kind of abort, known callers, instances only on a service", async () => {
    expect(await check((c) => (c.services.echo.policy = { fault: {} }))).toEqual(["services.echo.policy.fault: needs a delay, an abort, or both"]);
    expect(await check((c) => (c.services.echo.policy = { fault: { abort: { status: 500, reset: true } } }))).toEqual(["services.echo.policy.fault.abort: needs exactly one of status, reset (found status and reset)"]);
    expect(await check((c) => (c.services.echo.policy = { fault: { abort: { percent: 5 } } }))).toEqual(["services.echo.policy.fault.abort: needs exactly one of status, reset (found none)"]);
    expect(await check((c) => (c.services.echo.policy = { fault: { delay: { fixed: "1s" }, when: { from: ["web", "spiffe://x"] } } }))).toEqual([
      'services.echo.policy.fault.when.from[0]: unknown caller "web" (a declared service, the gateway\'s name, or a SPIFFE id)',
      'services.echo.policy.fault.when.from[1]: "spiffe://x" is not a valid SPIFFE id',
    ]);
    expect(await check((c) => (c.routes[0].action.policy = { fault: { delay: { fixed: "1s" }, when: { instances: ["echo-v1"] } } }))).toEqual([
      "routes[0].action.policy.fault.when.instances: only on a service's policy (its inbound sidecars know their instance); a route's fault is applied by the caller",
    ]);
  });
  test("outlier detection: the longest ejection is not shorter than the first", async () => {
    expect(await check((c) => (c.services.echo.policy = { outlierDetection: { baseEjectionTime: "1m", maxEjectionTime: "30s" } }))).toEqual([
      "services.echo.policy.outlierDetection.maxEjectionTime: 30s is shorter than baseEjectionTime 1m",
    ]);
    expect(await check((c) => (c.services.echo.policy = { outlierDetection: { maxEjectionTime: "10s" } }))).toEqual([
      "services.echo.policy.outlierDetection.maxEjectionTime: 10s is shorter than baseEjectionTime 30s (the default)",
    ]);
  });
  test("rate limit keys and hashOn need exactly one source; hashing needs a hashing balancer and vice versa", async () => {
    expect(await check((c) => (c.services.echo.policy = { rateLimit: { requestsPerSecond: 1, key: {} } }))).toEqual(["services.echo.policy.rateLimit.key: needs exactly one of header, caller (found none)"]);
    expect(await check((c) => (c.services.echo.policy = { loadBalancer: "ring_hash" }))).toEqual(["services.echo.policy.loadBalancer: ring_hash needs hashOn (a header, a cookie or the caller) to hash requests by"]);
    expect(await check((c) => (c.services.echo.policy = { loadBalancer: "least_request", hashOn: { header: "x", caller: true } }))).toEqual([
      "services.echo.policy.hashOn: needs exactly one of header, cookie, caller (found header and caller)",
      "services.echo.policy.hashOn: only used by loadBalancer ring_hash or maglev (this policy says least_request)",
    ]);
    expect(await check((c) => (c.routes[0].action.policy = { loadBalancer: "maglev" }))).toEqual([
      "routes[0].action.destinations[0]: loadBalancer maglev needs hashOn (a header, a cookie or the caller), on the route's policy or the service's",
    ]);
  });
  test("a mirror needs a known destination and a forwarding route", async () => {
    expect(await check((c) => (c.routes[0].action.mirror = { service: "nope" }))).toEqual(['routes[0].action.mirror.service: unknown service "nope" (declare it under services)']);
    expect(await check((c) => (c.routes[0].action.mirror = { service: "echo", subset: "v9" }))).toEqual(['routes[0].action.mirror.subset: service "echo" has no subset "v9"']);
  });
  test("a YAML key with no value still counts", async () => {
    const r = await parseMeshConfig("services:\n  echo:\n    policy:\n      concurrency:\n", "t.yaml");
    expect(r.ok ? [] : r.issues.map((i) => i.path)).toEqual(["services.echo.policy.concurrency"]);
  });
  test("perTryTimeout must fit in timeout", async () => {
    expect(await check((c) => (c.routes[0].action.policy = { timeout: "1s", retries: { attempts: 2, perTryTimeout: "1500ms" } }))).toEqual([
      "routes[0].action.policy.retries.perTryTimeout: 1500ms exceeds the policy timeout 1s; each try must fit in the overall timeout",
    ]);
    expect(await check((c) => (c.routes[0].action.policy = { timeout: "1s", retries: { attempts: 2, perTryTimeout: "1000ms", allowNonIdempotent: true } }))).toEqual([]);
    // Only compared within one policy block.
    expect(await check((c) => (c.routes[0].action.policy = { retries: { attempts: 2, perTryTimeout: "1m" } }))).toEqual([]);
  });
});

test("all semantic issues are reported together", async () => {
  const out = await check((c) => {
    c.routes[0].match.path = { regex: "(" };
    c.routes[0].action.destinations[0].service = "nope";
    c.services.echo.policy = { fault: {} };
  });
  expect(out.map((l) => l.split(":")[0])).toEqual(["services.echo.policy.fault", "routes[0].match.path.regex", "routes[0].action.destinations[0].service"]);
});
