// The outbound fast path over real sockets: a listener relaying to mTLS servers made with our own CA (and to a plain
// upstream). The destination's SPIFFE id is checked before any request byte; timeouts, connect failures, reuse.
import { afterEach, describe, expect, test } from "bun:test";
import type { RequestEvent } from "../../shared/telemetry/observe.ts";
import type { MeshConfig } from "../../shared/config/schema.ts";
import { startMtlsServer } from "./inbound-server.ts";
import type { MtlsServer } from "../ports.ts";
import { apiCreds, bundle, call, cleanup, cleanups, foreign, impostor, LIMITS, listener as relayListener, meshConfig, mtlsServer, TD, type Seen } from "../../test/support/outbound-relay-harness.ts";

afterEach(cleanup);

/** The relay listener's port (test/support/outbound-relay-harness.ts). */
const listener = (config: MeshConfig, events: RequestEvent[] = []): number => relayListener(config, events).port;

describe("outbound relay to a mesh upstream", () => {
  test("relays over mTLS with our certificate; one connection carries sequential requests", async () => {
    const seen: Seen[] = [];
    const api = await mtlsServer(apiCreds, seen);
    const events: RequestEvent[] = [];
    const port = listener(meshConfig(api.port), events);
    for (const path of ["/a", "/b", "/c"]) {
      const res = await call(port, path);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("from api");
    }
    expect(seen.map((s) => s.path)).toEqual(["/a", "/b", "/c"]);
    expect(seen[0]!.peer).toBe(`spiffe://${TD}/ns/default/svc/web`);
    expect(api.connectionsAccepted?.()).toBe(1);
    expect(events.map((e) => [e.route, e.cluster, e.endpoint, e.status, e.attempts])).toEqual([["default-api", "api", "api-1", 200, 1], ["default-api", "api", "api-1", 200, 1], ["default-api", "api", "api-1", 200, 1]]);
  });

  test("a chunked request body arrives whole", async () => {
    const seen: Seen[] = [];
    const api = await mtlsServer(apiCreds, seen);
    const port = listener(meshConfig(api.port));
    const body = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode("hello ")), c.enqueue(new TextEncoder().encode("world")), c.close()) });
    const res = await call(port, "/post", { method: "POST", body, duplex: "half" } as RequestInit);
    expect(res.status).toBe(200);
    expect(seen[0]!.body).toBe("hello world");
  });

  test("a server with another service's identity gets nothing: 502 identity-mismatch", async () => {
    const seen: Seen[] = [];
    const api = await mtlsServer(impostor, seen);
    const port = listener(meshConfig(api.port));
    const res = await call(port);
    expect(res.status).toBe(502);
    expect(res.headers.get("x-mesh-error")).toBe("identity-mismatch");
    expect(seen.length).toBe(0);
  });

  test("a server whose certificate another CA signed gets nothing: 502 connect-failure", async () => {
    const seen: Seen[] = [];
    const api = await mtlsServer({ ...foreign, trustBundlePem: bundle }, seen);
    const port = listener(meshConfig(api.port));
    const res = await call(port);
    expect(res.status).toBe(502);
    expect(res.headers.get("x-mesh-error")).toBe("connect-failure");
    expect(seen.length).toBe(0);
  });

  test("no response within the route timeout: 504", async () => {
    const api = await mtlsServer(apiCreds, [], 1500);
    const port = listener(meshConfig(api.port, { routes: [{ name: "short", match: { host: ["api"] }, action: { destinations: [{ service: "api" }], policy: { timeout: "300ms" } } }] }));
    const began = performance.now();
    const res = await call(port);
    expect(res.status).toBe(504);
    expect(performance.now() - began).toBeLessThan(1200);
  });

  test("nobody listening: 502 connect-failure", async () => {
    const gone = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const dead = gone.port;
    gone.stop(true);
    const res = await call(listener(meshConfig(dead)));
    expect(res.status).toBe(502);
    expect(res.headers.get("x-mesh-error")).toBe("connect-failure");
  });

  test("a canary split is relayed: each request to the subset its weight draws, reported under that subset", async () => {
    const v1: Seen[] = [];
    const v2: Seen[] = [];
    const [s1, s2] = [await mtlsServer(apiCreds, v1), await mtlsServer(apiCreds, v2)];
    const events: RequestEvent[] = [];
    const port = listener({
      trustDomain: TD,
      services: {
        api: {
          instances: [{ id: "api-v1", address: "127.0.0.1", port: s1.port, tags: ["v1"] }, { id: "api-v2", address: "127.0.0.1", port: s2.port, tags: ["v2"] }],
          subsets: { v1: { tags: ["v1"] }, v2: { tags: ["v2"] } },
        },
      },
      routes: [{ name: "canary", match: { host: ["api"] }, action: { destinations: [{ service: "api", subset: "v1", weight: 3 }, { service: "api", subset: "v2", weight: 1 }] } }],
    }, events);
    for (let i = 0; i < 400; i++) {
      const res = await call(port, `/r${i}`);
      expect(res.status).toBe(200); // not 299: the relay took it, not the full path
      await res.arrayBuffer();
    }
    expect(v1.length + v2.length).toBe(400);
    // 100 expected on v2 (standard deviation 8.7).
    expect(v2.length).toBeGreaterThan(60);
    expect(v2.length).toBeLessThan(140);
    expect(events.filter((e) => e.cluster === "api/v2").map((e) => e.endpoint)).toEqual(v2.map(() => "api-v2"));
    expect(events.filter((e) => e.cluster === "api/v1").length).toBe(v1.length);
    expect(s1.connectionsAccepted?.()).toBe(1); // each subset's endpoint keeps its pooled connection
    expect(s2.connectionsAccepted?.()).toBe(1);
  });

  test("a route's header edits are relayed: request ops reach the upstream, response ops reach the caller", async () => {
    const seen: Headers[] = [];
    const api = await startMtlsServer({
      hostname: "127.0.0.1", port: 0, credentials: () => apiCreds, trustDomain: TD, limits: LIMITS,
      handler: async (req) => {
        seen.push(req.headers);
        return new Response("edited", { headers: { server: "app/1.0", "x-app": "1", "set-cookie": "a=1" } });
      },
    });
    cleanups.push(() => api.close({ drainMs: 0 }));
    const port = listener(meshConfig(api.port, {
      routes: [{
        name: "edits",
        match: { host: ["api"] },
        action: {
          destinations: [{ service: "api" }],
          requestHeaders: { remove: ["x-internal"], set: { "X-Env": "prod" }, add: { "x-tag": "mesh" } },
          responseHeaders: { remove: ["Server"], set: { "x-app": "2" }, add: { "set-cookie": "b=2" } },
        },
      }],
    }));
    const res = await call(port, "/e", { headers: { "x-internal": "secret", "x-env": "dev", "x-tag": "app" } });
    expect(res.status).toBe(200); // not 299: relayed
    expect(await res.text()).toBe("edited");
    expect(seen[0]!.has("x-internal")).toBe(false);
    expect(seen[0]!.get("x-env")).toBe("prod");
    expect(seen[0]!.get("x-tag")).toBe("app, mesh");
    expect(res.headers.has("server")).toBe(false);
    expect(res.headers.get("x-app")).toBe("2");
    expect(res.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
    expect(res.headers.get("x-request-id")).toBe(seen[0]!.get("x-request-id"));
  });

  test("routes that need a Request take the full path (a prefix rewrite, a mirror)", async () => {
    const api = await mtlsServer(apiCreds, []);
    const rewrite = listener(meshConfig(api.port, { routes: [{ name: "rw", match: { host: ["api"], path: { prefix: "/x" } }, action: { destinations: [{ service: "api" }], rewrite: { prefix: "/y" } } }] }));
    expect((await call(rewrite)).status).toBe(299);
    const mirrored = listener(meshConfig(api.port, { routes: [{ name: "m", match: { host: ["api"] }, action: { destinations: [{ service: "api" }], mirror: { service: "api", percent: 50 } } }] }));
    expect((await call(mirrored)).status).toBe(299);
  });
});

describe("outbound relay with retries (body-less requests)", () => {
  /** An api server answering 503 ("busy") to its first `failures` requests, then 200; it counts what it saw. */
  async function flaky(failures: number): Promise<{ server: MtlsServer; seen: string[] }> {
    const seen: string[] = [];
    const server = await startMtlsServer({
      hostname: "127.0.0.1", port: 0, credentials: () => apiCreds, trustDomain: TD, limits: LIMITS,
      handler: async (req) => {
        seen.push(`${req.method} ${new URL(req.url).pathname}`);
        return seen.length <= failures ? new Response("busy", { status: 503 }) : new Response("ok");
      },
    });
    cleanups.push(() => server.close({ drainMs: 0 }));
    return { server, seen };
  }
  const retrying = (port: number, retries: object, extra: object = {}): MeshConfig =>
    meshConfig(port, { routes: [{ name: "retrying", match: { host: ["api"] }, action: { destinations: [{ service: "api" }], policy: { retries, ...extra } } }] } as Partial<MeshConfig>);

  test("a retried 503 is not relayed: the next try answers, on a fresh connection, reported as 2 attempts", async () => {
    const { server, seen } = await flaky(1);
    const events: RequestEvent[] = [];
    const port = listener(retrying(server.port, { attempts: 2, on: [503], backoff: "1ms" }), events);
    const res = await call(port, "/a");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ok");
    expect(seen).toEqual(["GET /a", "GET /a"]);
    expect(server.connectionsAccepted?.()).toBe(2); // the 503's connection was dropped with its response
    expect(events.map((e) => [e.route, e.status, e.attempts])).toEqual([["retrying", 200, 2]]);
  });

  test("a retried request on a kept-alive connection: the retry answers it, and the next request on it is served", async () => {
    const { server, seen } = await flaky(1);
    const events: RequestEvent[] = [];
    const port = listener(retrying(server.port, { attempts: 2, on: [503], backoff: "1ms" }), events);
    let got = "";
    const sock = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data(_s, d) { got += d.toString("latin1"); } } });
    cleanups.push(() => sock.end());
    const answers = (): number => got.split("HTTP/1.1 ").length - 1;
    sock.write("GET /one HTTP/1.1\r\nhost: api\r\n\r\n");
    for (let i = 0; i < 200 && answers() < 1; i++) await Bun.sleep(5);
    sock.write("GET /two HTTP/1.1\r\nhost: api\r\n\r\n");
    for (let i = 0; i < 200 && answers() < 2; i++) await Bun.sleep(5);
    // The 503 of the first try never reaches the caller: two 200s, in order, on the one connection.
    expect(got.match(/HTTP\/1\.1 \d+/g)).toEqual(["HTTP/1.1 200", "HTTP/1.1 200"]);
    expect(seen).toEqual(["GET /one", "GET /one", "GET /two"]);
    expect(events.map((e) => [e.path, e.status, e.attempts])).toEqual([["/one", 200, 2], ["/two", 200, 1]]);
  });

  test("the route timeout during the wait before a retry reports the try that was made", async () => {
    const { server } = await flaky(100);
    const events: RequestEvent[] = [];
    const port = listener(retrying(server.port, { attempts: 3, on: ["5xx"], backoff: "10s" }, { timeout: "200ms" }), events);
    // Full jitter may start the retry at once; at most a few tries, and the request event says how many.
    const res = await call(port, "/w");
    expect(res.status).toBe(504);
    expect(events).toHaveLength(1);
    expect(events[0]!.attempts).toBeGreaterThanOrEqual(1);
    expect(events[0]!.status).toBe(504);
  });

  test("answers that aren't retried leave the balancer alone: round robin still alternates first tries", async () => {
    const a = await flaky(0);
    const b = await flaky(0);
    const config: MeshConfig = {
      trustDomain: TD,
      services: {
        api: {
          instances: [{ id: "a", address: "127.0.0.1", port: a.server.port }, { id: "b", address: "127.0.0.1", port: b.server.port }],
          policy: { loadBalancer: "round_robin", retries: { attempts: 2, on: ["5xx"] } },
        },
      },
    };
    const port = listener(config);
    for (let i = 0; i < 10; i++) expect((await call(port, `/rr${i}`)).status).toBe(200);
    expect([a.seen.length, b.seen.length]).toEqual([5, 5]);
  });

  test("tries run out: the last response is relayed, body and all", async () => {
    const { server, seen } = await flaky(10);
    const events: RequestEvent[] = [];
    const port = listener(retrying(server.port, { attempts: 2, on: ["5xx"], backoff: "1ms" }), events);
    const res = await call(port, "/b");
    expect(res.status).toBe(503);
    expect(await res.text()).toBe("busy");
    expect(seen.length).toBe(3);
    expect(events.map((e) => [e.status, e.attempts])).toEqual([[503, 3]]);
  });

  test("a connect failure goes on to another endpoint", async () => {
    const { server, seen } = await flaky(0);
    const dead = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const deadPort = dead.port;
    dead.stop(true);
    const config: MeshConfig = {
      trustDomain: TD,
      services: { api: { instances: [{ id: "dead", address: "127.0.0.1", port: deadPort }, { id: "live", address: "127.0.0.1", port: server.port }], policy: { retries: { attempts: 2, backoff: "1ms" } } } },
    };
    const port = listener(config);
    for (let i = 0; i < 6; i++) expect((await call(port, `/c${i}`)).status).toBe(200);
    expect(seen.length).toBe(6);
  });

  test("a method the policy won't repeat gets one try; a request with a body takes the full path", async () => {
    const { server, seen } = await flaky(10);
    const port = listener(retrying(server.port, { attempts: 2, on: ["5xx"], backoff: "1ms" }));
    expect((await call(port, "/p", { method: "POST" })).status).toBe(503);
    expect(seen).toEqual(["POST /p"]);
    expect((await call(port, "/q", { method: "PUT", body: "x" })).status).toBe(299);
  });

  test("the route timeout covers the wait between tries: 504, and no try after it", async () => {
    const { server, seen } = await flaky(100);
    // Backoff is jittered from 0 (full jitter): a try may still go within the 300 ms, and answer 503 at once; with
    // 10 retries and a 5 s base, the route timeout is what ends the request, during some wait.
    const port = listener(retrying(server.port, { attempts: 10, on: ["5xx"], backoff: "5s" }, { timeout: "300ms" }));
    const began = performance.now();
    const res = await call(port, "/t");
    expect(res.status).toBe(504);
    expect(res.headers.get("x-mesh-error")).toBe("timeout");
    expect(performance.now() - began).toBeLessThan(2000);
    const tries = seen.length;
    expect(tries).toBeGreaterThanOrEqual(1);
    await Bun.sleep(300);
    expect(seen.length).toBe(tries);
  });

  test("a caller that leaves while the relay waits to retry: the retry never goes", async () => {
    const { server, seen } = await flaky(10);
    const port = listener(retrying(server.port, { attempts: 1, on: ["5xx"], backoff: "1s" }));
    const sock = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    sock.write("GET /gone HTTP/1.1\r\nhost: api\r\n\r\n");
    for (let i = 0; i < 50 && seen.length === 0; i++) await Bun.sleep(5);
    sock.end();
    // Usually 1: the one retry waits up to 1 s (full jitter), and the caller left first. Whatever it is, nothing
    // may follow the caller's leaving.
    const tries = seen.length;
    await Bun.sleep(1100);
    expect(seen.length).toBe(tries);
  });

  /** An api server that holds its first `slow` answers for `holdMs`, then answers at once. */
  async function sluggish(slow: number, holdMs: number): Promise<{ server: MtlsServer; seen: string[] }> {
    const seen: string[] = [];
    const server = await startMtlsServer({
      hostname: "127.0.0.1", port: 0, credentials: () => apiCreds, trustDomain: TD, limits: LIMITS,
      handler: async (req) => {
        seen.push(`${req.method} ${new URL(req.url).pathname}`);
        if (seen.length <= slow) await Bun.sleep(holdMs);
        return new Response(`answer ${seen.length}`);
      },
    });
    cleanups.push(() => server.close({ drainMs: 0 }));
    return { server, seen };
  }

  test("a per-try timeout fails the slow try and the next one answers, whatever `on` says", async () => {
    const { server, seen } = await sluggish(1, 600);
    const events: RequestEvent[] = [];
    const port = listener(retrying(server.port, { attempts: 1, on: [503], perTryTimeout: "100ms", backoff: "1ms" }), events);
    const began = performance.now();
    const res = await call(port, "/slow");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("answer 2");
    expect(performance.now() - began).toBeLessThan(500);
    expect(seen).toEqual(["GET /slow", "GET /slow"]);
    expect(events.map((e) => [e.status, e.attempts])).toEqual([[200, 2]]);
  });

  test("every try too slow: 504 after the last per-try timeout, long before the route timeout", async () => {
    const { server, seen } = await sluggish(10, 2000);
    const port = listener(retrying(server.port, { attempts: 1, perTryTimeout: "100ms", backoff: "1ms" }, { timeout: "10s" }));
    const began = performance.now();
    const res = await call(port, "/slow");
    expect(res.status).toBe(504);
    expect(res.headers.get("x-mesh-error")).toBe("timeout");
    expect(performance.now() - began).toBeLessThan(700); // two tries of 100 ms, timed by their own timers
    expect(seen.length).toBe(2);
  });

  test("a method the policy won't repeat still has its one try bounded by the per-try timeout", async () => {
    const { server, seen } = await sluggish(10, 2000);
    const port = listener(retrying(server.port, { attempts: 2, perTryTimeout: "100ms" }, { timeout: "10s" }));
    const began = performance.now();
    expect((await call(port, "/post", { method: "POST" })).status).toBe(504);
    expect(performance.now() - began).toBeLessThan(600); // its own timer, not the listener's 1 s sweep
    expect(seen).toEqual(["POST /post"]);
  });
});

describe("outbound relay to a service outside the mesh", () => {
  test("plaintext, with the forwarding headers and request id set", async () => {
    const seen: Headers[] = [];
    const plain = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => (seen.push(req.headers), new Response("plain")) });
    cleanups.push(() => plain.stop(true));
    const port = listener({ trustDomain: TD, services: { api: { mtls: "disable", instances: [{ id: "p1", address: "127.0.0.1", port: plain.port! }] } } });
    const res = await call(port, "/x", { headers: { "x-request-id": "rid-1", connection: "x-drop", "x-drop": "1" } });
    expect(await res.text()).toBe("plain");
    expect(res.headers.get("x-request-id")).toBe("rid-1");
    expect(seen[0]!.get("x-request-id")).toBe("rid-1");
    expect(seen[0]!.get("x-forwarded-for")).toBe("127.0.0.1");
    expect(seen[0]!.has("x-drop")).toBe(false);
  });
});
