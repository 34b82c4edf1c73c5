// The relay's share of a route's resilience policies over real sockets: a rate limit's tokens, a fault's targets, a
// breaker's slots and retry count, ring-hash affinity. What the relay hands over, the full path (handleDownstream) answers.
import { afterEach, describe, expect, test } from "bun:test";
import { handleDownstream } from "../../shared/proxy/downstream.ts";
import { createObservation } from "../../shared/telemetry/observe.ts";
import type { MeshConfig, RouteConfig } from "../../shared/config/schema.ts";
import type { Snapshot } from "../../shared/proxy/snapshot.ts";
import type { CircuitBreaker } from "../../shared/upstream/circuit-breaker.ts";
import { startMtlsServer } from "./inbound-server.ts";
import { apiCreds, call, cleanup, cleanups, LIMITS, listener, meshConfig, mtlsServer, TD, type Seen } from "../../test/support/outbound-relay-harness.ts";
import { until } from "../../test/support/until.ts";

afterEach(cleanup);

/** The full path as the outbound listener runs it: its answers are the policy's own (429, fault abort, overflow). */
const fullPath = async (snap: Snapshot, req: Request, target: string): Promise<Response> =>
  (await handleDownstream(req, snap, snap.meshRoutes, { listener: "outbound", observe: createObservation(), clientIp: "127.0.0.1", proto: "http", trustForwarded: true, target })).response;

const route = (action: Partial<RouteConfig["action"]>): Partial<MeshConfig> => ({ routes: [{ name: "p", match: { host: ["api"] }, action: { destinations: [{ service: "api" }], ...action } }] });

const breakerOf = (snap: Snapshot, name = "api"): CircuitBreaker => [...snap.clusters.values()].find((c) => c.name === name)!.breaker!;

describe("outbound relay: a route's rate limit and fault", () => {
  test("requests within the burst are relayed; the next one finds the bucket the relay emptied: 429 from the full path", async () => {
    const seen: Seen[] = [];
    const api = await mtlsServer(apiCreds, seen);
    const { port } = listener(meshConfig(api.port, route({ policy: { rateLimit: { requestsPerSecond: 0.01, burst: 2 } } })), [], fullPath);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await call(port)).status);
    expect(statuses).toEqual([200, 200, 429]);
    expect(seen.length).toBe(2);
    const limited = await call(port);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  test("a request the fault targets gets the full path's abort and never reaches the upstream; others are relayed", async () => {
    const seen: Seen[] = [];
    const api = await mtlsServer(apiCreds, seen);
    const fault = { abort: { status: 418 }, when: { headers: [{ name: "x-fault", exact: "on" }] } };
    const { port } = listener(meshConfig(api.port, route({ policy: { fault } })), [], fullPath);
    const aborted = await call(port, "/x", { headers: { "x-fault": "on" } });
    expect(aborted.status).toBe(418);
    expect(aborted.headers.get("x-mesh-error")).toBe("fault-abort");
    const relayed = await call(port, "/x", { headers: { "x-fault": "off" } });
    expect(relayed.status).toBe(200);
    expect(await relayed.text()).toBe("from api");
    expect(seen.length).toBe(1);
  });
});

describe("outbound relay: the cluster's circuit breaker", () => {
  const oneSlot = { circuitBreaker: { maxConnections: 1, maxRequests: 1, maxPendingRequests: 0 } };

  test("a relayed request holds a slot: a concurrent one goes to the full path, which refuses it (503 overflow)", async () => {
    const api = await mtlsServer(apiCreds, [], 300);
    const config: MeshConfig = { trustDomain: TD, services: { api: { instances: [{ id: "api-1", address: "127.0.0.1", port: api.port }], policy: oneSlot } } };
    const { port, snap } = listener(config, [], fullPath);
    const first = call(port);
    await until(async () => breakerOf(snap).stats().active === 1);
    const second = await call(port);
    expect(second.status).toBe(503);
    expect(second.headers.get("x-mesh-error")).toBe("overflow");
    expect((await first).status).toBe(200);
    await until(async () => breakerOf(snap).stats().active === 0);
    expect(breakerOf(snap).stats().overflows.requests).toBe(1); // counted once, by the full path
    expect((await call(port)).status).toBe(200);
  });

  test("the slot comes back however the request ends: connect failure, route timeout, a caller that leaves", async () => {
    const slow = await mtlsServer(apiCreds, [], 400);
    const dead = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const deadPort = dead.port;
    dead.stop(true);
    const withApi = (p: number, timeout?: string): MeshConfig => ({ trustDomain: TD, services: { api: { instances: [{ id: "api-1", address: "127.0.0.1", port: p }], policy: { ...oneSlot, ...(timeout === undefined ? {} : { timeout }) } } } });

    const refused = listener(withApi(deadPort));
    expect((await call(refused.port)).status).toBe(502);
    await until(async () => breakerOf(refused.snap).stats().active === 0);

    const timedOut = listener(withApi(slow.port, "100ms"));
    expect((await call(timedOut.port)).status).toBe(504);
    await until(async () => breakerOf(timedOut.snap).stats().active === 0);

    const left = listener(withApi(slow.port));
    await expect(call(left.port, "/x", { signal: AbortSignal.timeout(50) })).rejects.toThrow();
    await until(async () => breakerOf(left.snap).stats().active === 0);
    expect((await call(left.port)).status).toBe(200); // relayed again, not 299
  });

  test("retries count against maxRetries: none allowed relays the 503 after one try; one allowed retries, and its count ends", async () => {
    const flaky = async (): Promise<{ port: number; seen: string[] }> => {
      const seen: string[] = [];
      const s = await startMtlsServer({
        hostname: "127.0.0.1", port: 0, credentials: () => apiCreds, trustDomain: TD, limits: LIMITS,
        handler: async (req) => {
          seen.push(new URL(req.url).pathname);
          return seen.length === 1 ? new Response("busy", { status: 503 }) : new Response("ok");
        },
      });
      cleanups.push(() => s.close({ drainMs: 0 }));
      return { port: s.port, seen };
    };
    const config = (p: number, maxRetries: number): MeshConfig => ({
      trustDomain: TD,
      services: { api: { instances: [{ id: "api-1", address: "127.0.0.1", port: p }], policy: { circuitBreaker: { maxRetries }, retries: { attempts: 2, on: [503], backoff: "1ms" } } } },
    });

    const none = await flaky();
    const a = listener(config(none.port, 0));
    expect((await call(a.port)).status).toBe(503);
    expect(none.seen.length).toBe(1);
    expect(breakerOf(a.snap).stats().overflows.retries).toBe(1);

    const one = await flaky();
    const b = listener(config(one.port, 1));
    const res = await call(b.port);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ok");
    expect(one.seen.length).toBe(2);
    await until(async () => breakerOf(b.snap).stats().activeRetries === 0 && breakerOf(b.snap).stats().active === 0);
  });
});

describe("outbound relay: ring-hash affinity", () => {
  test("a session key sticks to one endpoint; requests without it spread over both", async () => {
    const s1: Seen[] = [];
    const s2: Seen[] = [];
    const a = await mtlsServer(apiCreds, s1);
    const b = await mtlsServer(apiCreds, s2);
    const config: MeshConfig = {
      trustDomain: TD,
      services: { api: { instances: [{ id: "api-1", address: "127.0.0.1", port: a.port }, { id: "api-2", address: "127.0.0.1", port: b.port }], policy: { loadBalancer: "ring_hash", hashOn: { header: "X-Session" } } } },
    };
    const { port } = listener(config);
    for (let i = 0; i < 8; i++) expect((await call(port, "/x", { headers: { "x-session": "s-1" } })).status).toBe(200);
    expect([s1.length, s2.length].sort()).toEqual([0, 8]);
    const sessions = new Map<string, number>();
    for (let k = 0; k < 24; k++) {
      const before = s1.length;
      await call(port, "/x", { headers: { "x-session": `user-${k}` } });
      await call(port, "/x", { headers: { "x-session": `user-${k}` } });
      sessions.set(`user-${k}`, s1.length - before); // 0 or 2: both of a key's requests on one endpoint
    }
    expect(new Set(sessions.values())).toEqual(new Set([0, 2]));
    const [n1, n2] = [s1.length, s2.length];
    for (let i = 0; i < 10; i++) await call(port);
    expect(s1.length - n1).toBeGreaterThan(0);
    expect(s2.length - n2).toBeGreaterThan(0);
  });
});

describe("outbound relay: the breaker's retry threshold under concurrency", () => {
  test("each retry takes the breaker's retry count and gives it back: concurrent retried requests never exceed maxRetries", async () => {
    // Every first try 503s, every second answers; two requests at once, maxRetries 1: one retries, one is refused.
    const seen: string[] = [];
    const s = await startMtlsServer({
      hostname: "127.0.0.1", port: 0, credentials: () => apiCreds, trustDomain: TD, limits: LIMITS,
      handler: async (req) => {
        const id = req.headers.get("x-request-id")!;
        const first = !seen.includes(id);
        seen.push(id);
        if (first) {
          await Bun.sleep(50);
          return new Response("busy", { status: 503 });
        }
        await Bun.sleep(150);
        return new Response("ok");
      },
    });
    cleanups.push(() => s.close({ drainMs: 0 }));
    const config: MeshConfig = {
      trustDomain: TD,
      services: { api: { instances: [{ id: "api-1", address: "127.0.0.1", port: s.port }], policy: { circuitBreaker: { maxRetries: 1 }, retries: { attempts: 1, on: [503], backoff: "1ms" } } } },
    };
    const { port, snap } = listener(config);
    const statuses = (await Promise.all([call(port, "/a"), call(port, "/b")])).map((r) => r.status).sort();
    expect(statuses).toEqual([200, 503]);
    const stats = breakerOf(snap).stats();
    expect(stats.overflows.retries).toBe(1);
    await until(async () => breakerOf(snap).stats().activeRetries === 0);
    // Given back: the next retried request may retry again.
    expect((await call(port, "/c")).status).toBe(200);
  });
});
