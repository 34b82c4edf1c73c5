// End to end with the gateway on Deno (gateway/main-deno.ts): the demo's echo v1/v2 split behind Bun sidecars and
// a Bun CA, all real processes on 127.0.0.1. The Deno mesh client must pin each sidecar's SPIFFE id over mTLS.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { TestMesh, startTestApp, rawRequest, statusOf, ROOT } from "./support/mesh.ts";
import { freePort } from "../deploy/lib/ports.ts";
import type { Started } from "../deploy/lib/process-group.ts";

const DENO = join(ROOT, "node_modules/.bin/deno");
/** As `npm run gateway:deno` (package.json): request.signal aborts only when the client goes away (as on Bun), and the
 * permissions: the network, reading config and certificates, the environment, the host name (pino asks for it). */
const DENO_FLAGS = ["--unstable-no-legacy-abort", "--allow-net", "--allow-read", "--allow-write", "--allow-env", "--allow-sys=hostname"];
const GATEWAY_ID = "spiffe://mesh.local/ns/default/svc/gateway";

const mesh = new TestMesh();
// The demo's echo instances, as test apps that also record the headers that reached them.
const answer = (version: string) => (req: Request) =>
  Response.json({ service: "echo", version, caller: req.headers.get("x-mesh-client-id"), path: new URL(req.url).pathname });
const v1 = startTestApp("echo-v1", answer("v1"));
const v2 = startTestApp("echo-v2", answer("v2"));
let gateway: Started | undefined;
let base = "";
let gatewayPort = 0;
let adminPort = 0;
let inboundPorts: number[] = [];
let httpsPort = 0;
let edgeCertPem = "";

/** Open TCP connections to a local port (Linux /proc/net/tcp: the remote port, state 01 = ESTABLISHED). */
function establishedTo(port: number): number {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  return readFileSync("/proc/net/tcp", "utf8").split("\n").filter((l) => {
    const f = l.trim().split(/\s+/);
    return f[2]?.endsWith(hex) === true && f[3] === "01";
  }).length;
}

type Route = { name: string; match: unknown; action: unknown };

/**
 * deploy/examples/demo.yaml without the web service: echo v1/v2 (80/20) on free ports behind the gateway. Two more
 * routes test the mesh client's failures: "impostor" is served by echo v1's sidecar (so it presents echo's id),
 * and "gone" has its only instance on a port nobody listens on. An HTTPS listener sits beside the HTTP one.
 */
function demoEchoConfig(ports: { v1: number; v2: number; gateway: number; closed: number }, https: { port: number; cert: string; key: string }): unknown {
  const demo = parse(readFileSync(join(ROOT, "deploy/examples/demo.yaml"), "utf8")) as {
    services: Record<string, { instances: Array<{ id: string; address: string; port: number }> }>;
    gateway: { listeners: Array<{ name: string; address?: string; port: number; tls?: { cert: string; key: string } }>; routes: Route[] };
  };
  delete demo.services.web;
  for (const i of demo.services.echo!.instances) i.port = i.id === "echo-v1" ? ports.v1 : ports.v2;
  demo.services.impostor = { instances: [{ id: "impostor-1", address: "127.0.0.1", port: ports.v1 }] };
  demo.services.gone = { instances: [{ id: "gone-1", address: "127.0.0.1", port: ports.closed }] };
  demo.gateway.listeners[0]!.port = ports.gateway;
  // A second listener with an edge certificate: Deno.serve terminates that TLS itself.
  demo.gateway.listeners.push({ name: "https", address: "127.0.0.1", port: https.port, tls: { cert: https.cert, key: https.key } });
  const to = (service: string): Route => ({ name: service, match: { path: { prefix: `/${service}` } }, action: { destinations: [{ service }] } });
  demo.gateway.routes = [...demo.gateway.routes.filter((r) => r.name !== "web"), to("impostor"), to("gone")];
  return demo;
}

beforeAll(async () => {
  await mesh.startCa();
  const [p1, p2] = [await freePort(), await freePort()];
  inboundPorts = [p1, p2];
  gatewayPort = await freePort();
  adminPort = await freePort();
  const key = join(mesh.dir, "edge.key");
  const cert = join(mesh.dir, "edge.crt");
  const gen = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]);
  if (gen.exitCode !== 0) throw new Error(`openssl failed: ${gen.stderr.toString()}`);
  edgeCertPem = readFileSync(cert, "utf8");
  httpsPort = await freePort();
  const config = mesh.writeConfig(demoEchoConfig({ v1: p1, v2: p2, gateway: gatewayPort, closed: await freePort() }, { port: httpsPort, cert, key }));
  await mesh.startSidecar({ config, service: "echo", appPort: v1.port, inboundPort: p1 });
  await mesh.startSidecar({ config, service: "echo", appPort: v2.port, inboundPort: p2 });
  // node_modules is found through the repo's package.json (Deno's "manual" node_modules mode), no install step.
  gateway = await mesh.group.spawn("gateway-deno", [DENO, "run", ...DENO_FLAGS, join(ROOT, "gateway/main-deno.ts"), "--config", config, ...(await mesh.gatewayArgs(config)), "--admin-port", String(adminPort)], { readyTimeoutMs: 30_000 });
  base = `http://127.0.0.1:${gatewayPort}`;
}, 90_000);

afterAll(async () => {
  await mesh.stop();
  v1.stop();
  v2.stop();
});

test("the gateway runs on Deno and says so", async () => {
  expect(gateway!.ready.runtime).toBe("deno");
  expect(gateway!.ready.spiffeId).toBe(GATEWAY_ID);
  const info = (await (await fetch(`http://127.0.0.1:${adminPort}/info`)).json()) as { runtime: string };
  expect(info.runtime).toBe("deno");
  expect((await fetch(`${base}/healthz`)).status).toBe(200);
  // The console runs on Deno too: the page, and the gateway's own figures scraped in process.
  expect((await fetch(`http://127.0.0.1:${adminPort}/console`)).headers.get("content-type")).toContain("text/html");
  const view = (await (await fetch(`http://127.0.0.1:${adminPort}/console/data`)).json()) as { members: Array<{ origin: string; runtime: string; health: string }> };
  expect(view.members.find((m) => m.origin === "self")).toMatchObject({ runtime: "deno", health: "up" });
});

test("GET /echo splits about 80/20 between v1 and v2, and echo sees the gateway's identity", async () => {
  const counts: Record<string, number> = {};
  const n = 200;
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${base}/echo`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { version: string; caller: string; path: string };
    counts[body.version] = (counts[body.version] ?? 0) + 1;
    expect(body.caller).toBe(GATEWAY_ID);
    expect(body.path).toBe("/");
  }
  // Binomial(200, 0.2): sd ~5.7; allow 4 sd either side.
  const seen = counts.v2 ?? 0;
  expect(seen).toBeGreaterThan(40 - 23);
  expect(seen).toBeLessThan(40 + 23);
  expect((counts.v1 ?? 0) + seen).toBe(n);
  // One keep-alive pool per sidecar: 200 sequential requests ride on one connection each, not 200 handshakes.
  for (const p of inboundPorts) {
    expect(establishedTo(p)).toBeGreaterThanOrEqual(1);
    expect(establishedTo(p)).toBeLessThanOrEqual(2);
  }
}, 60_000);

/** Sends one request and returns the headers that reached whichever echo instance got it. */
async function headersAtApp(send: () => Promise<number>): Promise<Record<string, string>> {
  const [n1, n2] = [v1.seen.length, v2.seen.length];
  expect(await send()).toBe(200);
  const arrived = [...v1.seen.slice(n1), ...v2.seen.slice(n2)];
  expect(arrived).toHaveLength(1);
  return arrived[0]!.headers;
}

test("the Deno mesh client invents no headers and a caller cannot forge the mesh's own", async () => {
  // A raw request: no User-Agent, no Accept (fetch would add both), and a forged identity and absent-list.
  const bare = await headersAtApp(async () =>
    statusOf(await rawRequest(gatewayPort, "GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nx-mesh-client-id: spiffe://mesh.local/ns/default/svc/admin\r\nx-mesh-absent: x-keep\r\nx-keep: 1\r\nConnection: close\r\n\r\n")),
  );
  expect(bare["user-agent"]).toBeUndefined();
  expect(bare.accept).toBeUndefined();
  expect(bare["x-mesh-absent"]).toBeUndefined();
  expect(bare["x-mesh-client-id"]).toBe(GATEWAY_ID);
  expect(bare["x-keep"]).toBe("1");

  // Both present: a downstream's x-mesh-absent must not make the inbound strip them.
  const full = await headersAtApp(async () => (await fetch(`${base}/echo`, { headers: { "user-agent": "probe/1", accept: "application/json", "x-mesh-absent": "user-agent, accept" } })).status);
  expect(full["user-agent"]).toBe("probe/1");
  expect(full.accept).toBe("application/json");
  expect(full["x-mesh-absent"]).toBeUndefined();
});

test("HTTPS at the edge (Deno.serve with the listener's certificate), mTLS inside", async () => {
  const [n1, n2] = [v1.seen.length, v2.seen.length];
  const res = await fetch(`https://127.0.0.1:${httpsPort}/echo`, { tls: { ca: edgeCertPem } } as RequestInit);
  expect(res.status).toBe(200);
  expect(((await res.json()) as { caller: string }).caller).toBe(GATEWAY_ID);
  const got = [...v1.seen.slice(n1), ...v2.seen.slice(n2)];
  expect(got.map((g) => g.headers["x-forwarded-proto"])).toEqual(["https"]);
});

test("a request body crosses the Deno mesh client whole (256 KiB, with backpressure)", async () => {
  const body = "0123456789abcdef".repeat(16 * 1024);
  const [n1, n2] = [v1.seen.length, v2.seen.length];
  const res = await fetch(`${base}/echo/upload`, { method: "POST", body });
  expect(res.status).toBe(200);
  const got = [...v1.seen.slice(n1), ...v2.seen.slice(n2)];
  expect(got.map((g) => [g.method, g.path, g.body.length])).toEqual([["POST", "/upload", body.length]]);
  expect(got[0]!.body === body).toBe(true);
});

test("a server presenting another SPIFFE id is refused (identity-mismatch); the app never sees the request", async () => {
  const [n1, n2] = [v1.seen.length, v2.seen.length];
  const res = await fetch(`${base}/impostor`);
  expect(res.status).toBe(502);
  expect(res.headers.get("x-mesh-error")).toBe("identity-mismatch");
  expect(((await res.json()) as { message: string }).message).toContain("spiffe://mesh.local/ns/default/svc/echo");
  expect([v1.seen.length, v2.seen.length]).toEqual([n1, n2]);
});

test("an endpoint nobody listens on is a connect-failure", async () => {
  const res = await fetch(`${base}/gone`);
  expect(res.status).toBe(502);
  expect(res.headers.get("x-mesh-error")).toBe("connect-failure");
});

test("refusals keep the core's JSON shape: no route 404, lower-case method 400 (hyper passes it on), dot-segments 400", async () => {
  const res = await fetch(`${base}/nowhere`);
  expect(res.status).toBe(404);
  expect(((await res.json()) as { error: string }).error).toBe("no-route");
  const raw = await rawRequest(gatewayPort, "get /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  expect(statusOf(raw)).toBe(400);
  expect(raw).toContain("method must be upper-case");
  // No raw target on Deno.serve, but its req.url keeps the path as sent, so the path policy still refuses it.
  expect(await rawRequest(gatewayPort, "GET /x/../echo HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")).toContain('"error":"invalid-path"');
});

test("SIGTERM drains and the Deno gateway exits 0", async () => {
  const proc = gateway!.proc;
  proc.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
  const out = mesh.group.output(gateway!.pid);
  expect(out).toContain("drained; exiting");
  // The access log went through the Deno stdout sink (buffered) and was flushed before the exit.
  expect(out).toMatch(/"msg":"access"/);
  expect(out).toMatch(/"path":"\/gone".*"cause":"connect-failure"/);
}, 20_000);
