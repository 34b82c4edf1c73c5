// meshctl explain and what-if against a running mesh in Consul mode: a real Consul agent, our CA, a gateway and
// echo v1/v2 sidecars. What explain predicts (route, split, passing endpoints, authorization) is what the mesh does.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { TestMesh, startTestApp, ROOT } from "./support/mesh.ts";
import { freePort } from "../deploy/lib/ports.ts";
import { until } from "./support/until.ts";
import { startConsul, type ConsulAgent } from "../deploy/lib/consul-agent.ts";
import { BUN, stopByPid, type Started } from "../deploy/lib/process-group.ts";

const mesh = new TestMesh();
const echoApp = startTestApp("echo");
const webApp = startTestApp("web");
let consul: ConsulAgent;
let gatewayUrl = "";
let webOutbound = 0;
const sidecars: Record<string, Started> = {};

const mkConfig = (gatewayPort: number, v1: number) => ({
  trustDomain: "mesh.local",
  services: { echo: { subsets: { v1: { tags: ["v1"] }, v2: { tags: ["v2"] } } }, web: {} },
  authorization: { echo: { default: "deny", rules: [{ name: "edge-only", action: "allow", from: ["gateway"] }] } },
  gateway: {
    name: "gateway",
    listeners: [{ name: "http", address: "127.0.0.1", port: gatewayPort }],
    routes: [{ name: "echo", match: { path: { prefix: "/echo" } }, action: { destinations: [{ service: "echo", subset: "v1", weight: v1 }, { service: "echo", subset: "v2", weight: 100 - v1 }], rewrite: { prefix: "/" } } }],
  },
});
let current = "";
let changed = "";

async function meshctl(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const p = Bun.spawn([BUN, join(ROOT, "cli/meshctl.ts"), ...args, "--consul", consul.httpAddr], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out, err };
}

async function sidecar(service: string, instance: string, appPort: number, tags: string[]): Promise<Started & { outboundPort: number }> {
  const outboundPort = await freePort();
  const s = await mesh.group.spawn(`sidecar-${instance}`, [BUN, join(ROOT, "sidecar/main.ts"), "--consul", consul.httpAddr, "--service", service, "--instance", instance,
    "--app-port", String(appPort), "--inbound-port", String(await freePort()), "--outbound-port", String(outboundPort), "--admin-port", String(await freePort()),
    ...(await mesh.memberArgs(service)), "--access-log", "off", "--drain-delay", "100ms", ...tags.flatMap((t) => ["--tag", t])]);
  return { ...s, outboundPort };
}

const passing = async (service: string): Promise<number> => ((await (await fetch(`${consul.httpAddr}/v1/health/service/${service}?passing=1`)).json()) as unknown[]).length;

beforeAll(async () => {
  consul = await startConsul();
  await mesh.startCa();
  const gatewayPort = await freePort();
  current = mesh.writeConfig(mkConfig(gatewayPort, 80), "current.yaml");
  changed = mesh.writeConfig(mkConfig(gatewayPort, 50), "fifty.yaml");
  expect((await meshctl("apply", "-f", current)).code).toBe(0);
  sidecars.v1 = await sidecar("echo", "echo-v1", echoApp.port, ["v1"]);
  sidecars.v2 = await sidecar("echo", "echo-v2", echoApp.port, ["v2"]);
  webOutbound = (await sidecar("web", "web-1", webApp.port, [])).outboundPort;
  await mesh.group.spawn("gateway", [BUN, join(ROOT, "gateway/main.ts"), "--consul", consul.httpAddr, ...(await mesh.memberArgs("gateway")), "--admin-port", String(await freePort()), "--access-log", "off"]);
  gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  await until(async () => (await passing("echo")) === 2, 15_000, 100);
  await until(async () => (await fetch(`${gatewayUrl}/echo/x`)).status === 200, 15_000, 100);
}, 120_000);

afterAll(async () => {
  await mesh.stop();
  await consul?.stop();
  echoApp.stop();
  webApp.stop();
}, 30_000);

test("explain from the gateway: route echo, v1 80 / v2 20 with each subset's passing instance, ALLOW; the mesh answers 200", async () => {
  const r = await meshctl("explain", "--gateway", "--host", "127.0.0.1", "--path", "/echo/x", "--from", "gateway");
  console.log(r.out);
  expect(r.code).toBe(0);
  expect(r.out).toContain("route: echo");
  expect(r.out).toContain("→ echo/v1  weight 80 (80%)");
  expect(r.out).toContain("passing in Consul: echo-v1");
  expect(r.out).toContain("passing in Consul: echo-v2");
  expect(r.out).toMatch(/authorization at echo: ALLOW/);
  expect((await fetch(`${gatewayUrl}/echo/x`)).status).toBe(200);
}, 30_000);

test("explain from web: DENY at echo (exit 1), and web's request through its sidecar is refused with 403", async () => {
  const r = await meshctl("explain", "--host", "echo", "--path", "/data", "--from", "web");
  console.log(r.out);
  expect(r.code).toBe(1);
  expect(r.out).toMatch(/authorization at echo: DENY/);
  expect((await fetch(`http://127.0.0.1:${webOutbound}/data`, { headers: { host: "echo" } })).status).toBe(403);
}, 30_000);

test("an instance that stops leaves its subset with no passing endpoint in explain, as it does in Consul", async () => {
  await stopByPid(sidecars.v2!);
  await until(async () => (await passing("echo")) === 1, 15_000, 100);
  const r = await meshctl("explain", "--gateway", "--host", "127.0.0.1", "--path", "/echo/x");
  const v2 = r.out.slice(r.out.indexOf("→ echo/v2"));
  expect(v2).toContain("passing in Consul: none");
  expect(r.out.slice(r.out.indexOf("→ echo/v1"), r.out.indexOf("→ echo/v2"))).toContain("passing in Consul: echo-v1");
}, 30_000);

test("what-if names the weight change before it is applied; after apply explain reads 50/50 from KV", async () => {
  const w = await meshctl("what-if", "-f", changed);
  console.log(w.out);
  expect(w.code).toBe(1);
  expect(w.out).toContain("weights: echo/v1 80, echo/v2 20 → echo/v1 50, echo/v2 50");
  expect((await meshctl("what-if", "-f", current)).code).toBe(0);
  expect((await meshctl("apply", "-f", changed)).code).toBe(0);
  expect((await meshctl("what-if", "-f", changed)).out).toContain("no changes");
  const r = await meshctl("explain", "--gateway", "--host", "127.0.0.1", "--path", "/echo/x");
  expect(r.out).toContain("→ echo/v1  weight 50 (50%)");
}, 30_000);
