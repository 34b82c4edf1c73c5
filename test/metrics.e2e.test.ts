// Prometheus metrics on a real mesh: a gateway and two sidecars over mTLS. Traffic with a 404, an authorization
// deny, retries past a dead endpoint and a refused handshake; each member's /metrics counts exactly what was sent.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ROOT, TestMesh, startTestApp } from "./support/mesh.ts";
import { freePort } from "../deploy/lib/ports.ts";
import { until } from "./support/until.ts";

const mesh = new TestMesh();
const echoApp = startTestApp("echo");
const webApp = startTestApp("web");
let gw = "";
let echoInbound = 0;
let webOutbound = 0;
let webMetricsPort = 0;
const admin: Record<"gateway" | "echo" | "web", number> = { gateway: 0, echo: 0, web: 0 };

const SENT = { ok: 10, noRoute: 3, denied: 2 };
/** The mesh's config with the gateway listening on `gatewayPort` (a second copy serves the Deno gateway). */
let configFor: (gatewayPort: number) => unknown = () => ({});

beforeAll(async () => {
  await mesh.startCa();
  const [gatewayPort, webInbound, deadPort] = [await freePort(), await freePort(), await freePort()];
  echoInbound = await freePort();
  webMetricsPort = await freePort();
  configFor = (gatewayPort) => ({
    trustDomain: "mesh.local",
    services: {
      echo: {
        instances: [
          { id: "echo-1", address: "127.0.0.1", port: echoInbound },
          // Registered, but nothing listens: every try that lands here is a connect failure, then a retry.
          { id: "echo-dead", address: "127.0.0.1", port: deadPort },
        ],
        policy: { loadBalancer: "round_robin", retries: { attempts: 2, on: ["connect-failure"] } },
      },
      web: { instances: [{ id: "web-1", address: "127.0.0.1", port: webInbound }] },
    },
    authorization: {
      echo: { default: "deny", rules: [{ name: "gateway-may-call", action: "allow", from: ["gateway"] }, { name: "no-web", action: "deny", from: ["web"] }] },
    },
    gateway: {
      name: "gateway",
      listeners: [{ name: "http", address: "127.0.0.1", port: gatewayPort }],
      routes: [{ name: "echo", match: { path: { prefix: "/echo/" } }, action: { destinations: [{ service: "echo" }], rewrite: { prefix: "/" } } }],
    },
  });
  const config = mesh.writeConfig(configFor(gatewayPort));
  const echo = await mesh.startSidecar({ config, service: "echo", appPort: echoApp.port, inboundPort: echoInbound });
  const web = await mesh.startSidecar({ config, service: "web", appPort: webApp.port, inboundPort: webInbound, extra: ["--metrics-address", `127.0.0.1:${webMetricsPort}`] });
  const gateway = await mesh.startGateway(config);
  Object.assign(admin, { gateway: gateway.adminPort, echo: echo.adminPort, web: web.adminPort });
  webOutbound = web.outboundPort;
  gw = `http://127.0.0.1:${gatewayPort}`;

  for (let i = 0; i < SENT.ok; i++) expect((await fetch(`${gw}/echo/item/${i}`)).status).toBe(200);
  for (let i = 0; i < SENT.noRoute; i++) expect((await fetch(`${gw}/nowhere/${i}`)).status).toBe(404);
  for (let i = 0; i < SENT.denied; i++) expect((await fetch(`http://127.0.0.1:${webOutbound}/data`, { headers: { host: "echo" } })).status).toBe(403);
}, 90_000);

afterAll(async () => {
  await mesh.stop();
  echoApp.stop();
  webApp.stop();
});

type Sample = { name: string; labels: Record<string, string>; value: number };

function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

async function scrape(port: number): Promise<Sample[]> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
  return parse(await res.text());
}

/** The sum over every series of `name` whose labels include `want`; undefined when none matches. */
function sum(samples: Sample[], name: string, want: Record<string, string> = {}): number | undefined {
  const hits = samples.filter((s) => s.name === name && Object.entries(want).every(([k, v]) => s.labels[k] === v));
  return hits.length === 0 ? undefined : hits.reduce((n, s) => n + s.value, 0);
}

describe("each member's /metrics", () => {
  test("gateway: requests per route and class, the 404 with its cause, tries and retries past the dead endpoint", async () => {
    const m = await scrape(admin.gateway);
    const ok = { side: "gateway", route: "echo", destination_service: "echo", destination_subset: "", source_service: "", response_code_class: "2xx", cause: "" };
    expect(sum(m, "mesh_requests_total", ok)).toBe(SENT.ok);
    expect(sum(m, "mesh_requests_total", { side: "gateway", route: "", destination_service: "", response_code_class: "4xx", cause: "no-route" })).toBe(SENT.noRoute);
    expect(sum(m, "mesh_requests_total", { mesh_service: "gateway", mesh_kind: "gateway" })).toBe(SENT.ok + SENT.noRoute);
    expect(sum(m, "mesh_request_duration_seconds_count", { side: "gateway", route: "echo", response_code_class: "2xx" })).toBe(SENT.ok);
    expect(sum(m, "mesh_request_duration_seconds_bucket", { route: "echo", le: "+Inf" })).toBe(SENT.ok);
    // Round robin over a live and a dead endpoint: about half the requests try the dead one first, then retry.
    const failed = sum(m, "mesh_upstream_requests_total", { side: "gateway", destination_service: "echo", outcome: "connect-failure" })!;
    expect(failed).toBeGreaterThan(0);
    expect(sum(m, "mesh_upstream_requests_total", { side: "gateway", destination_service: "echo", outcome: "success" })).toBe(SENT.ok);
    expect(sum(m, "mesh_upstream_retries_total", { side: "gateway", destination_service: "echo" })).toBe(failed);
    expect(sum(m, "mesh_upstream_request_duration_seconds_count", { side: "gateway", destination_service: "echo" })).toBe(SENT.ok + failed);
    expect(sum(m, "mesh_discovery_healthy_endpoints", { destination_service: "echo" })).toBe(2);
    expect(sum(m, "mesh_requests_in_flight", { side: "gateway" })).toBe(0);
  });

  test("echo's inbound: callers from their certificates, the deny by rule, handshakes", async () => {
    const m = await scrape(admin.echo);
    const inbound = { side: "inbound", route: "", destination_service: "echo", destination_subset: "" };
    expect(sum(m, "mesh_requests_total", { ...inbound, source_service: "gateway", response_code_class: "2xx", cause: "" })).toBe(SENT.ok);
    expect(sum(m, "mesh_requests_total", { ...inbound, source_service: "web", response_code_class: "4xx", cause: "forbidden" })).toBe(SENT.denied);
    expect(sum(m, "mesh_authz_decisions_total", { decision: "allow", rule: "gateway-may-call" })).toBe(SENT.ok);
    expect(sum(m, "mesh_authz_decisions_total", { decision: "deny", rule: "no-web" })).toBe(SENT.denied);
    expect(sum(m, "mesh_tls_handshakes_total", { listener: "inbound" })).toBeGreaterThanOrEqual(2);
    expect(sum(m, "mesh_upstream_retries_total", { side: "inbound" })).toBeUndefined();
  });

  test("web's outbound: the denied calls as the caller saw them", async () => {
    const m = await scrape(admin.web);
    expect(sum(m, "mesh_requests_total", { side: "outbound", route: "default-echo", destination_service: "echo", response_code_class: "4xx", cause: "forbidden" })).toBe(SENT.denied);
    expect(sum(m, "mesh_requests_total", { side: "inbound" })).toBeUndefined();
  });

  test("every member: identity, config, certificates and process", async () => {
    for (const [name, port] of Object.entries(admin)) {
      const m = await scrape(port);
      const kind = name === "gateway" ? "gateway" : "sidecar";
      expect(sum(m, "mesh_member_info", { spiffe_id: `spiffe://mesh.local/ns/default/svc/${name}`, mesh_service: name, mesh_kind: kind, runtime: "bun" })).toBe(1);
      expect(sum(m, "mesh_config_info", { version: "1" })).toBe(1);
      expect(sum(m, "mesh_config_rejections_total")).toBe(0);
      expect(sum(m, "mesh_config_last_apply_timestamp_seconds")).toBeLessThanOrEqual(Date.now() / 1000);
      const left = sum(m, "mesh_cert_seconds_left")!;
      expect(left).toBeGreaterThan(3600);
      expect(Math.abs(sum(m, "mesh_cert_expiry_timestamp_seconds")! - (Date.now() / 1000 + left))).toBeLessThan(5);
      expect(sum(m, "mesh_trust_root_expiry_timestamp_seconds")).toBeGreaterThan(Date.now() / 1000);
      expect(sum(m, "process_resident_memory_bytes")).toBeGreaterThan(10e6);
      expect(sum(m, "mesh_event_loop_delay_seconds", { quantile: "0.99" })).toBeGreaterThanOrEqual(0);
    }
  });
});

test("a TLS client without a certificate is refused and counted by reason", async () => {
  const before = sum(await scrape(admin.echo), "mesh_tls_refusals_total", { listener: "inbound", reason: "handshake" })!;
  const socket = await Bun.connect({ hostname: "127.0.0.1", port: echoInbound, tls: { rejectUnauthorized: false }, socket: { data() {}, error() {}, close() {} } });
  await until(async () => sum(await scrape(admin.echo), "mesh_tls_refusals_total", { listener: "inbound", reason: "handshake" })! === before + 1, 5000, 100);
  socket.end();
});

test("--metrics-address serves /metrics and nothing else", async () => {
  const res = await fetch(`http://127.0.0.1:${webMetricsPort}/metrics`);
  expect(res.status).toBe(200);
  const m = parse(await res.text());
  expect(sum(m, "mesh_requests_total", { side: "outbound", cause: "forbidden" })).toBe(SENT.denied);
  expect((await fetch(`http://127.0.0.1:${webMetricsPort}/ready`)).status).toBe(404);
  expect((await fetch(`http://127.0.0.1:${webMetricsPort}/config`)).status).toBe(404);
});

test("200 distinct random paths add no series: paths are never labels", async () => {
  const count = async (port: number) => (await scrape(port)).length;
  const before = { gateway: await count(admin.gateway), echo: await count(admin.echo) };
  const sentBefore = sum(await scrape(admin.gateway), "mesh_requests_total", { route: "echo", response_code_class: "2xx" })!;
  for (let i = 0; i < 100; i++) expect((await fetch(`${gw}/echo/${crypto.randomUUID()}?q=${crypto.randomUUID()}`)).status).toBe(200);
  for (let i = 0; i < 100; i++) expect((await fetch(`${gw}/${crypto.randomUUID()}`)).status).toBe(404);
  const gwAfter = await scrape(admin.gateway);
  expect(sum(gwAfter, "mesh_requests_total", { route: "echo", response_code_class: "2xx" })).toBe(sentBefore + 100);
  expect(gwAfter.length).toBe(before.gateway);
  expect(await count(admin.echo)).toBe(before.echo);
  expect(gwAfter.some((s) => Object.values(s.labels).some((v) => v.includes("/")) && s.name.startsWith("mesh_request"))).toBe(false);
});

test("the gateway on Deno serves the same metrics", async () => {
  const port = await freePort();
  const adminPort = await freePort();
  const config = mesh.writeConfig(configFor(port), "deno.yaml");
  // As `npm run gateway:deno` (package.json).
  const flags = ["--unstable-no-legacy-abort", "--allow-net", "--allow-read", "--allow-write", "--allow-env", "--allow-sys=hostname"];
  await mesh.group.spawn("gateway-deno", [join(ROOT, "node_modules/.bin/deno"), "run", ...flags, join(ROOT, "gateway/main-deno.ts"), "--config", config, ...(await mesh.gatewayArgs(config)), "--admin-port", String(adminPort), "--access-log", "off"], { readyTimeoutMs: 30_000 });
  for (let i = 0; i < 3; i++) expect((await fetch(`http://127.0.0.1:${port}/echo/deno/${i}`)).status).toBe(200);
  const m = await scrape(adminPort);
  expect(sum(m, "mesh_member_info", { runtime: "deno", mesh_kind: "gateway" })).toBe(1);
  expect(sum(m, "mesh_requests_total", { side: "gateway", route: "echo", response_code_class: "2xx" })).toBe(3);
  expect(sum(m, "mesh_upstream_requests_total", { side: "gateway", destination_service: "echo", outcome: "success" })).toBe(3);
  expect(sum(m, "mesh_cert_seconds_left")).toBeGreaterThan(3600);
  expect(sum(m, "process_resident_memory_bytes")).toBeGreaterThan(10e6);
}, 60_000);
