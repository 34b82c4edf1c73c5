// Unit tests for a service's inbound policy: when one is compiled at all, the order of rate limit and fault, the bucket
// key and defaults asked of the registry, and the inbound filter building each policy's chain once and following reloads.
import { describe, expect, test } from "bun:test";
import type { PolicyConfig } from "../config/schema.ts";
import type { Filter, Handler } from "../types.ts";
import { createKeyedBuckets, type TokenBucketConfig } from "../upstream/token-bucket.ts";
import { compileInboundPolicy, inboundPolicyFilter } from "./inbound-policy.ts";
import type { InboundPolicy } from "../proxy/snapshot.ts";
import { makeContext } from "../../test/support/filter-context.ts";

/** Compile options for service "api"; records what the policy asked of the registry's buckets. */
function options(instance: string | undefined = "i-1") {
  const asked: { key: string; config: TokenBucketConfig }[] = [];
  return {
    asked,
    opts: {
      trustDomain: "mesh",
      namespace: "default",
      service: "api",
      instance,
      buckets(key: string, config: TokenBucketConfig) {
        asked.push({ key, config });
        return createKeyedBuckets(config);
      },
    },
  };
}

function app() {
  let calls = 0;
  const handler: Handler = async () => {
    calls++;
    return new Response("app");
  };
  return { handler, calls: () => calls };
}

describe("compileInboundPolicy", () => {
  test("neither fault nor rate limit: no policy (the inbound pays nothing)", () => {
    const { opts, asked } = options();
    expect(compileInboundPolicy({}, opts)).toBeUndefined();
    // Other kinds of a service's policy are for callers' routes, not for its own inbound.
    expect(compileInboundPolicy({ timeout: "1s", loadBalancer: "least_request", circuitBreaker: {} }, opts)).toBeUndefined();
    expect(asked).toEqual([]);
  });

  test("a fault that can never apply to this instance, and no rate limit: no policy", () => {
    const { opts } = options("i-2");
    expect(compileInboundPolicy({ fault: { abort: {}, when: { instances: ["i-1"] } } }, opts)).toBeUndefined();
  });

  test("fault only: requests are aborted before the app", async () => {
    const a = app();
    const p = compileInboundPolicy({ fault: { abort: { status: 418 } } }, options().opts)!;
    expect((await p.wrap(a.handler)(new Request("http://api/"), makeContext())).status).toBe(418);
    expect(a.calls()).toBe(0);
  });

  test("rate limit only: buckets under the service's name, burst defaulting to the rate rounded up (at least 1)", () => {
    const cases: Array<[PolicyConfig["rateLimit"], TokenBucketConfig]> = [
      [{ requestsPerSecond: 2.5 }, { ratePerSecond: 2.5, burst: 3 }],
      [{ requestsPerSecond: 0.1 }, { ratePerSecond: 0.1, burst: 1 }],
      [{ requestsPerSecond: 5, burst: 20 }, { ratePerSecond: 5, burst: 20 }],
    ];
    for (const [rateLimit, config] of cases) {
      const { opts, asked } = options();
      expect(compileInboundPolicy({ rateLimit }, opts)).toBeDefined();
      expect(asked).toEqual([{ key: "api", config }]);
    }
  });

  test("rate limit keyed by caller: each verified peer has its own bucket", async () => {
    const a = app();
    const h = compileInboundPolicy({ rateLimit: { requestsPerSecond: 1, burst: 1, key: { caller: true } } }, options().opts)!.wrap(a.handler);
    const as = (peer: string) => ({ ...makeContext(), peer });
    expect((await h(new Request("http://api/"), as("spiffe://mesh/ns/default/svc/web"))).status).toBe(200);
    expect((await h(new Request("http://api/"), as("spiffe://mesh/ns/default/svc/web"))).status).toBe(429);
    expect((await h(new Request("http://api/"), as("spiffe://mesh/ns/default/svc/batch"))).status).toBe(200);
  });

  test("rate limit keyed by header", async () => {
    const h = compileInboundPolicy({ rateLimit: { requestsPerSecond: 1, burst: 1, key: { header: "X-Tenant" } } }, options().opts)!.wrap(app().handler);
    const req = (tenant: string) => new Request("http://api/", { headers: { "x-tenant": tenant } });
    expect((await h(req("a"), makeContext())).status).toBe(200);
    expect((await h(req("a"), makeContext())).status).toBe(429);
    expect((await h(req("b"), makeContext())).status).toBe(200);
  });

  test("both: the rate limit runs first, so a refused request never reaches the fault", async () => {
    const a = app();
    const p = compileInboundPolicy({ rateLimit: { requestsPerSecond: 0.5, burst: 1 }, fault: { abort: { status: 503 } } }, options().opts)!;
    const h = p.wrap(a.handler);
    // First request: a token is taken, then the fault aborts it. Second: refused by the limiter before any fault.
    // Were the fault outermost, both would be 503 (it never calls on), and the bucket would never be touched.
    const first = await h(new Request("http://api/"), makeContext());
    const second = await h(new Request("http://api/"), makeContext());
    expect([first.status, first.headers.get("x-mesh-error")]).toEqual([503, "fault-abort"]);
    expect([second.status, second.headers.get("x-mesh-error")]).toEqual([429, "rate-limited"]);
    expect(a.calls()).toBe(0);
  });

  test("an inbound fault's `from` names callers by service; the verified peer selects it", async () => {
    const a = app();
    const h = compileInboundPolicy({ fault: { abort: { status: 503 }, when: { from: ["web"] } } }, options().opts)!.wrap(a.handler);
    expect((await h(new Request("http://api/"), { ...makeContext(), peer: "spiffe://mesh/ns/default/svc/web" })).status).toBe(503);
    expect((await h(new Request("http://api/"), { ...makeContext(), peer: "spiffe://mesh/ns/default/svc/other" })).status).toBe(200);
  });
});

/** A policy whose wrap() is counted: the filter must build a chain once per policy, not per request. */
function spyPolicy(tag: string) {
  let wraps = 0;
  const wrap: Filter = (next) => {
    wraps++;
    return async (req, ctx) => {
      const res = await next(req, ctx);
      return new Response(await res.text(), { headers: { "x-policy": tag } });
    };
  };
  const policy: InboundPolicy = { wrap };
  return { policy, wraps: () => wraps };
}

describe("inboundPolicyFilter", () => {
  test("no policy: requests go straight to the app", async () => {
    const a = app();
    const h = inboundPolicyFilter(() => undefined)(a.handler);
    const res = await h(new Request("http://api/"), makeContext());
    expect(await res.text()).toBe("app");
    expect(res.headers.get("x-policy")).toBeNull();
    expect(a.calls()).toBe(1);
  });

  test("the policy's chain is built once and reused for every request", async () => {
    const spy = spyPolicy("one");
    const h = inboundPolicyFilter(() => spy.policy)(app().handler);
    for (let i = 0; i < 5; i++) expect((await h(new Request("http://api/"), makeContext())).headers.get("x-policy")).toBe("one");
    expect(spy.wraps()).toBe(1);
  });

  test("a reload's new policy object is picked up at once and built once; going back to none passes through", async () => {
    const one = spyPolicy("one");
    const two = spyPolicy("two");
    let live: InboundPolicy | undefined = one.policy;
    const a = app();
    const h = inboundPolicyFilter(() => live)(a.handler);
    const tag = async () => (await h(new Request("http://api/"), makeContext())).headers.get("x-policy");
    expect(await tag()).toBe("one");
    live = two.policy;
    expect(await tag()).toBe("two");
    expect(await tag()).toBe("two");
    live = undefined;
    expect(await tag()).toBeNull();
    live = one.policy; // an older snapshot's policy again: its chain is still the one built before
    expect(await tag()).toBe("one");
    expect([one.wraps(), two.wraps()]).toEqual([1, 1]);
    expect(a.calls()).toBe(5);
  });

  test("the compiled policy's state (its buckets) lives across requests through the filter", async () => {
    const p = compileInboundPolicy({ rateLimit: { requestsPerSecond: 0.5, burst: 2 } }, options().opts)!;
    const h = inboundPolicyFilter(() => p)(app().handler);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await h(new Request("http://api/"), makeContext())).status);
    expect(statuses).toEqual([200, 200, 429]);
  });
});
