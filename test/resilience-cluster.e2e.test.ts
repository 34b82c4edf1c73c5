// Cluster-level resilience through a real gateway and real sidecars (mTLS, child processes): outlier detection with
// retries hides a failing instance and ejects it within a handful of requests, the ejection survives a config reload
// and ends by itself; circuit breaker overflow is answered at once; a retry budget caps retry amplification;
// ring_hash and maglev keep each key on one instance and remap little when an instance leaves.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { TestMesh, startTestApp, ROOT } from "./support/mesh.ts";
import { BUN, type Started } from "../deploy/lib/process-group.ts";
import { freePort } from "../deploy/lib/ports.ts";
import { until } from "./support/until.ts";

const mesh = new TestMesh();

// --- apps (in this process, so their timestamps share the test's clock) ---

/** echo-bad answers 503 until made healthy; it keeps the time of every request it gets. */
let badHealthy = false;
const badTimes: number[] = [];
const echoBad = startTestApp("echo-bad", () => {
  badTimes.push(performance.now());
  return badHealthy ? Response.json({ app: "echo-bad" }) : Response.json({ app: "echo-bad", error: "down" }, { status: 503 });
});
const echoGood = startTestApp("echo-good");

const HOLD_MS = 1000;
const hold = (name: string) => async () => {
  await Bun.sleep(HOLD_MS);
  return Response.json({ app: name });
};
const slowApp = startTestApp("slow", hold("slow"));
const cappedApp = startTestApp("capped", hold("capped"));

const flaky = [1, 2].map((i) => startTestApp(`flaky-${i}`, () => Response.json({ app: `flaky-${i}` }, { status: 503 })));
const sticky = [1, 2, 3].map((i) => startTestApp(`sticky-${i}`));

const apps = [echoBad, echoGood, slowApp, cappedApp, ...flaky, ...sticky];

// --- the mesh ---

/** Listening ports that go into the config: the gateway's listener and every instance's inbound port, by instance id. */
const ports: Record<string, number> = {};
let gw = "";
let gatewayAdmin = 0;
let gateway: Started | undefined;

/** What the reload tests change; everything else stays as the first config had it. */
const edits = { headerOp: false, echoBreaker: false, stickyCount: 3 };

const OUTLIER = { consecutive5xx: 3, interval: "1s", baseEjectionTime: "10s", maxEjectionPercent: 50 };
const EJECTION_MS = 10_000;
const CONCURRENCY = 8;

function route(name: string, prefix: string, service: string, extra: Record<string, unknown> = {}) {
  return { name, match: { path: { prefix } }, action: { destinations: [{ service }], rewrite: { prefix: "/" }, ...extra } };
}

function meshConfig() {
  const inst = (id: string) => ({ id, address: "127.0.0.1", port: ports[id]! });
  return {
    trustDomain: "mesh.local",
    services: {
      echo: {
        instances: [inst("echo-bad"), inst("echo-good")],
        policy: { outlierDetection: OUTLIER, ...(edits.echoBreaker ? { circuitBreaker: { maxRequests: 500 } } : {}) },
      },
      slow: { instances: [inst("slow-1")], policy: { circuitBreaker: { maxConnections: 2, maxPendingRequests: 1, maxRequests: 10 } } },
      capped: { instances: [inst("capped-1")], policy: { circuitBreaker: { maxRequests: 2 } } },
      flaky: { instances: [inst("flaky-1"), inst("flaky-2")] },
      sticky: { instances: ["sticky-1", "sticky-2", "sticky-3"].slice(0, edits.stickyCount).map(inst) },
    },
    gateway: {
      name: "gateway",
      listeners: [{ name: "http", address: "127.0.0.1", port: ports.gateway! }],
      routes: [
        route("echo", "/echo/", "echo", { policy: { retries: { attempts: 2, on: ["5xx"] } } }),
        route("slow", "/slow/", "slow"),
        route("capped", "/capped/", "capped", edits.headerOp ? { requestHeaders: { set: { "x-reloaded": "yes" } } } : {}),
        route("flaky", "/flaky/", "flaky", { policy: { retries: { attempts: 3, on: ["5xx"], budget: { percent: 20, minRetriesPerSecond: 1, ttl: "10s" } } } }),
        route("ring", "/ring/", "sticky", { policy: { loadBalancer: "ring_hash", hashOn: { header: "x-user" } } }),
        route("maglev", "/maglev/", "sticky", { policy: { loadBalancer: "maglev", hashOn: { header: "x-user" } } }),
        route("cookie", "/cookie/", "sticky", { policy: { loadBalancer: "ring_hash", hashOn: { cookie: "session" } } }),
      ],
    },
  };
}

let configPath = "";
const writeConfig = () => mesh.writeConfig(meshConfig());

/** A port no other process of this file was given (freePort alone may hand out one twice before anyone binds it). */
const given = new Set<number>();
async function uniquePort(): Promise<number> {
  for (;;) {
    const p = await freePort();
    if (!given.has(p)) {
      given.add(p);
      return p;
    }
  }
}

/**
 * Starts a process whose listening port `key` is in the config; on EADDRINUSE (a port taken between freePort() and
 * the bind, e.g. by an outgoing connection's ephemeral port while nine members start at once) it moves `key` to a
 * fresh port, rewrites the config and tries again. The error does not always name the port, so `key` always moves.
 */
async function startWithPortRetry<T>(key: string, start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt === 3 || !/EADDRINUSE|in use/.test(String(err))) throw err;
      console.log(`${key}: a port was taken (${String(err).split("\n")[0]}), retrying on fresh ports`);
      ports[key] = await uniquePort();
      writeConfig();
    }
  }
}

const APPS: Record<string, { service: string; port: number }> = {
  "echo-bad": { service: "echo", port: echoBad.port },
  "echo-good": { service: "echo", port: echoGood.port },
  "slow-1": { service: "slow", port: slowApp.port },
  "capped-1": { service: "capped", port: cappedApp.port },
  ...Object.fromEntries(flaky.map((a, i) => [`flaky-${i + 1}`, { service: "flaky", port: a.port }])),
  ...Object.fromEntries(sticky.map((a, i) => [`sticky-${i + 1}`, { service: "sticky", port: a.port }])),
};

beforeAll(async () => {
  await mesh.startCa();
  for (const key of ["gateway", ...Object.keys(APPS)]) ports[key] = await uniquePort();
  configPath = writeConfig();
  await Promise.all(
    Object.entries(APPS).map(([instance, app]) =>
      startWithPortRetry(instance, async () =>
        mesh.startSidecar({ config: configPath, service: app.service, appPort: app.port, inboundPort: ports[instance]!, outboundPort: await uniquePort(), extra: ["--instance", instance] }),
      ),
    ),
  );
  // Started by hand rather than with mesh.startGateway(), which turns the access log off: test 3 reads it.
  gateway = await startWithPortRetry("gateway", async () => {
    gatewayAdmin = await uniquePort();
    return mesh.group.spawn("gateway", [BUN, join(ROOT, "gateway/main.ts"), "--config", configPath, ...(await mesh.gatewayArgs(configPath)), "--admin-port", String(gatewayAdmin)]);
  });
  gw = `http://127.0.0.1:${ports.gateway}`;
}, 60_000);

afterAll(async () => {
  await mesh.stop();
  for (const a of apps) a.stop();
});

// --- helpers ---

/** Runs `n` calls of `fn` with at most `concurrency` at a time. */
async function load<T>(n: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      out[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return out;
}

async function metric(name: string, labels: Record<string, string>): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${gatewayAdmin}/metrics`)).text();
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
}

const configVersion = async () => ((await (await fetch(`http://127.0.0.1:${gatewayAdmin}/config`)).json()) as { version: number }).version;

async function reload(): Promise<void> {
  const before = await configVersion();
  writeConfig();
  await until(async () => (await configVersion()) > before, 5000, 50);
}

const status = (path: string, init?: RequestInit) => fetch(`${gw}${path}`, init).then(async (r) => {
  await r.arrayBuffer();
  return r.status;
});

// --- 1 & 2: outlier detection with retries ---

let ejectedAt = 0; // performance.now() of the bad endpoint's last request before it was ejected

test("outlier detection + retries: 2000 requests over a good and a 503-only instance, ≥ 99.9% succeed, the bad one is ejected after a few", async () => {
  const N = 2000;
  const start = performance.now();
  const statuses = await load(N, CONCURRENCY, (i) => status(`/echo/r${i}`));
  const took = performance.now() - start;
  const ok = statuses.filter((s) => s === 200).length;

  // Ejection time: the bad app's last request before its first gap of a second or more (or its last request at all).
  const times = badTimes.filter((t) => t >= start);
  let last = times[0] ?? start;
  for (const t of times) {
    if (t - last >= 1000) break;
    last = t;
  }
  ejectedAt = last;
  const duringRun = times.filter((t) => t <= start + took).length;
  console.log(`outlier: success ${ok}/${N} (${((ok / N) * 100).toFixed(2)}%), bad endpoint ejected after ${Math.round(last - start)} ms, it saw ${duringRun} requests (run took ${Math.round(took)} ms)`);

  expect(ok / N).toBeGreaterThanOrEqual(0.999);
  expect(times.length).toBeGreaterThanOrEqual(3); // it was tried: consecutive5xx 3 needs three failures
  // Three failures eject it. Requests already sent to it cannot be called back: with 8 workers, at most the 7 others
  // can be in flight there at that moment (seen: usually 4, up to 9 when the first mTLS connections to it are slow).
  expect(duringRun).toBeLessThanOrEqual(OUTLIER.consecutive5xx + CONCURRENCY - 1);
  expect(last - start).toBeLessThan(2000);
  expect(await metric("mesh_outlier_ejected_endpoints", { destination_service: "echo" })).toBe(1);
  expect(await metric("mesh_outlier_ejections_total", { destination_service: "echo" })).toBe(1);
}, 30_000);

test("the ejection survives config reloads: an unrelated route edit, then a change to echo's own policy", async () => {
  expect(ejectedAt).toBeGreaterThan(0);
  // /clusters lists a cluster's endpoints from config/discovery, ejected or not: it shows both echo instances.
  const clusters = (await (await fetch(`http://127.0.0.1:${gatewayAdmin}/clusters`)).json()) as { clusters: { name: string; endpoints: { id: string }[] }[] };
  expect(clusters.clusters.find((c) => c.name === "echo")?.endpoints.map((e) => e.id).sort()).toEqual(["echo-bad", "echo-good"]);

  for (const edit of ["headerOp", "echoBreaker"] as const) {
    edits[edit] = true;
    await reload();
    const before = badTimes.length;
    const statuses = await load(100, 8, (i) => status(`/echo/after-${edit}-${i}`));
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(badTimes.length - before).toBe(0);
    expect(await metric("mesh_outlier_ejected_endpoints", { destination_service: "echo" })).toBe(1);
  }
  // The unrelated edit did apply: the capped route now sets a header.
  const seenBefore = cappedApp.seen.length;
  expect(await status("/capped/x")).toBe(200);
  expect(cappedApp.seen[seenBefore]?.headers["x-reloaded"]).toBe("yes");
}, 30_000);

test("an ejected endpoint comes back by itself after baseEjectionTime (at the next 1 s sweep)", async () => {
  badHealthy = true;
  const before = badTimes.length;
  // A trickle of requests: the first one the bad app sees marks its return.
  await until(async () => {
    await status("/echo/trickle");
    return badTimes.length > before;
  }, EJECTION_MS + 5000, 50);
  const back = badTimes[before]! - ejectedAt;
  console.log(`outlier: ejected endpoint back after ${Math.round(back)} ms (baseEjectionTime ${EJECTION_MS} ms, interval 1000 ms)`);
  expect(back).toBeGreaterThan(EJECTION_MS - 500);
  expect(back).toBeLessThan(EJECTION_MS + 2500);
  // Healthy now, it takes its share again and stays in.
  const b0 = badTimes.length;
  const statuses = await load(40, 4, (i) => status(`/echo/back-${i}`));
  expect(statuses.filter((s) => s !== 200)).toEqual([]);
  expect(badTimes.length - b0).toBeGreaterThanOrEqual(10);
  expect(await metric("mesh_outlier_ejected_endpoints", { destination_service: "echo" })).toBe(0);
}, 30_000);

// --- 3 & 4: circuit breaker ---

async function timed(path: string) {
  const started = performance.now();
  const res = await fetch(`${gw}${path}`);
  await res.arrayBuffer();
  return { status: res.status, error: res.headers.get("x-mesh-error"), requestId: res.headers.get("x-request-id"), ms: performance.now() - started };
}

async function accessLine(requestId: string): Promise<{ ms: number; status: number; cause?: string }> {
  let found: { ms: number; status: number; cause?: string } | undefined;
  await until(async () => {
    for (const line of mesh.group.output(gateway!.pid).split("\n")) {
      if (!line.includes('"msg":"access"') || !line.includes(requestId)) continue;
      found = JSON.parse(line) as { ms: number; status: number; cause?: string };
      return true;
    }
    return false;
  }, 3000, 25);
  return found!;
}

test("circuit breaker: 2 in flight (maxConnections), 1 pending, the 4th gets 503 overflow at once; the first three succeed", async () => {
  const seen0 = slowApp.seen.length;
  const first = [timed("/slow/1"), timed("/slow/2")];
  await until(async () => slowApp.seen.length - seen0 === 2, 3000, 10);
  const third = timed("/slow/3");
  await until(async () => (await metric("mesh_circuit_breaker_pending_requests", { destination_service: "slow" })) === 1, 3000, 10);

  const fourth = await timed("/slow/4");
  expect(fourth.status).toBe(503);
  expect(fourth.error).toBe("overflow");
  expect(fourth.requestId).not.toBeNull();
  const log = await accessLine(fourth.requestId!);
  console.log(`breaker: overflow answered in ${log.ms} ms (access log), ${fourth.ms.toFixed(2)} ms at the client`);
  expect(log.status).toBe(503);
  expect(log.cause).toBe("overflow");
  // "At once" means not queued behind a held slot (HOLD_MS): a bound of 1 ms read 1.23 ms in one fresh-clone CI run
  // on a busy VM, which says nothing about queueing.
  expect(log.ms).toBeLessThan(HOLD_MS / 20);
  expect(fourth.ms).toBeLessThan(HOLD_MS / 10);

  const done = await Promise.all([...first, third]);
  expect(done.map((d) => d.status)).toEqual([200, 200, 200]);
  // The third waited in the queue for one of the first two: about two holds in all.
  expect(done[2]!.ms).toBeGreaterThan(HOLD_MS * 1.7);
  expect(slowApp.seen.length - seen0).toBe(3); // the overflowed request never reached the app
  expect(await metric("mesh_circuit_breaker_overflows_total", { destination_service: "slow", threshold: "pending" })).toBe(1);
}, 20_000);

test("circuit breaker maxRequests: the 3rd and 4th of 2 allowed fail at once, nothing is queued", async () => {
  const seen0 = cappedApp.seen.length;
  const first = [timed("/capped/1"), timed("/capped/2")];
  await until(async () => cappedApp.seen.length - seen0 === 2, 3000, 10);
  const over = await Promise.all([timed("/capped/3"), timed("/capped/4")]);
  console.log(`breaker maxRequests: overflow at the client in ${over.map((o) => o.ms.toFixed(2)).join(" and ")} ms`);
  for (const o of over) {
    expect(o.status).toBe(503);
    expect(o.error).toBe("overflow");
    expect(o.ms).toBeLessThan(100);
  }
  expect(await metric("mesh_circuit_breaker_pending_requests", { destination_service: "capped" })).toBe(0);
  expect((await Promise.all(first)).map((d) => d.status)).toEqual([200, 200]);
  expect(cappedApp.seen.length - seen0).toBe(2);
  expect(await metric("mesh_circuit_breaker_overflows_total", { destination_service: "capped", threshold: "requests" })).toBe(2);
}, 20_000);

// --- 5: retry budget ---

test("retry budget: 200 requests to two 503-only instances with 3 retries each reach the apps far fewer than 800 times", async () => {
  const N = 200;
  const before = flaky.reduce((n, a) => n + a.seen.length, 0);
  const started = performance.now();
  const statuses = await load(N, 8, (i) => status(`/flaky/b${i}`));
  const took = performance.now() - started;
  const attempts = flaky.reduce((n, a) => n + a.seen.length, 0) - before;
  // Budget: 20 % of the requests in the 10 s window plus 1/s × 10 s.
  const allowed = N + 0.2 * N + 1 * 10;
  const exhausted = await metric("mesh_retry_budget_exhausted_total", { destination_service: "flaky" });
  console.log(`retry budget: ${N} requests → ${attempts} attempts at the apps (${attempts - N} retries; budget allows ${allowed - N}, without it up to ${N * 4}); ${exhausted} retries refused; took ${Math.round(took)} ms`);
  expect(statuses.every((s) => s === 503)).toBe(true);
  expect(attempts).toBeGreaterThanOrEqual(N);
  expect(attempts).toBeLessThanOrEqual(allowed + 2);
  expect(exhausted).toBeGreaterThan(0);
}, 30_000);

// --- 6: session affinity ---

const USERS = Array.from({ length: 20 }, (_, i) => `user-${i}`);
type Kind = "ring" | "maglev" | "cookie";
const send: Record<Kind, (user: string) => Promise<string>> = {
  ring: (u) => appOf("/ring/a", { "x-user": u }),
  maglev: (u) => appOf("/maglev/a", { "x-user": u }),
  cookie: (u) => appOf("/cookie/a", { cookie: `theme=dark; session=s-${u}; lang=en` }),
};

async function appOf(path: string, headers: Record<string, string>): Promise<string> {
  const res = await fetch(`${gw}${path}`, { headers });
  const body = (await res.json()) as { app?: string };
  if (res.status !== 200 || body.app === undefined) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`);
  return body.app;
}

/** 10 requests per user (8 users at a time); each user's set of instances. */
async function mapping(kind: Kind): Promise<Map<string, Set<string>>> {
  const m = new Map<string, Set<string>>(USERS.map((u) => [u, new Set()]));
  await load(USERS.length * 10, 8, async (i) => {
    const u = USERS[i % USERS.length]!;
    m.get(u)!.add(await send[kind](u));
  });
  return m;
}

const only = (m: Map<string, Set<string>>) => new Map([...m].map(([u, s]) => [u, [...s][0]!]));
const before: Partial<Record<Kind, Map<string, string>>> = {};
const after: Partial<Record<Kind, Map<string, string>>> = {};

test("affinity: 20 users × 10 requests on ring_hash (header), maglev (header) and ring_hash (cookie): one instance each, spread over several", async () => {
  for (const kind of ["ring", "maglev", "cookie"] as const) {
    const m = await mapping(kind);
    for (const [u, s] of m) expect({ user: u, instances: [...s] }).toEqual({ user: u, instances: [expect.any(String)] });
    before[kind] = only(m);
    const spread = new Set(before[kind]!.values());
    console.log(`affinity ${kind}: 20 users on ${[...spread].sort().map((a) => `${a} ×${[...before[kind]!.values()].filter((x) => x === a).length}`).join(", ")}`);
    expect(spread.size).toBeGreaterThan(1);
  }
  // Without the key, requests spread round robin.
  const keyless = await load(30, 3, () => appOf("/ring/a", {}));
  expect(new Set(keyless).size).toBe(3);
}, 30_000);

test("affinity: sticky-3 leaves the config; its users move, every user still sticks to one instance", async () => {
  expect(before.ring).toBeDefined();
  edits.stickyCount = 2;
  await reload();
  await until(async () => {
    const c = (await (await fetch(`http://127.0.0.1:${gatewayAdmin}/clusters`)).json()) as { clusters: { name: string; endpoints: unknown[] }[] };
    return c.clusters.filter((x) => x.name === "sticky").every((x) => x.endpoints.length === 2);
  }, 5000, 50);
  const removedSeen = sticky[2]!.seen.length;
  for (const kind of ["ring", "maglev", "cookie"] as const) {
    const m = await mapping(kind);
    for (const [u, s] of m) expect({ user: u, instances: [...s] }).toEqual({ user: u, instances: [expect.any(String)] });
    after[kind] = only(m);
    const stayers = USERS.filter((u) => before[kind]!.get(u) !== "sticky-3");
    const moved = stayers.filter((u) => after[kind]!.get(u) !== before[kind]!.get(u));
    const all = USERS.filter((u) => after[kind]!.get(u) !== before[kind]!.get(u));
    console.log(`affinity ${kind}: removing sticky-3 moved ${all.length}/20 users (${20 - stayers.length} were on it); of the ${stayers.length} on the other two, ${moved.length} moved (${((moved.length / Math.max(1, stayers.length)) * 100).toFixed(0)}%)${moved.length > 0 ? `: ${moved.map((u) => `${u} ${before[kind]!.get(u)}→${after[kind]!.get(u)}`).join(", ")}` : ""}`);
  }
  expect(sticky[2]!.seen.length).toBe(removedSeen);
}, 30_000);

for (const kind of ["maglev", "ring", "cookie"] as const) {
  test(`affinity ${kind}: users that were not on the removed instance keep theirs`, () => {
    expect(after[kind]).toBeDefined();
    const stayers = USERS.filter((u) => before[kind]!.get(u) !== "sticky-3");
    const moved = stayers.filter((u) => after[kind]!.get(u) !== before[kind]!.get(u)).map((u) => `${u}: ${before[kind]!.get(u)} → ${after[kind]!.get(u)}`);
    expect(moved).toEqual([]);
  });
}
