// The mode is what the flags say, with real processes and a real Consul dev agent: a file-mode sidecar on a VM
// where CONSUL_HTTP_ADDR is set neither registers nor discovers there; mixed mode keeps file instances Consul lacks.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { TestMesh, startTestApp, ROOT } from "./support/mesh.ts";
import { freePort } from "../deploy/lib/ports.ts";
import { until } from "./support/until.ts";
import { startConsul, type ConsulAgent } from "../deploy/lib/consul-agent.ts";
import { BUN, type Started } from "../deploy/lib/process-group.ts";

const mesh = new TestMesh();
const app = startTestApp("echo");
let consul: ConsulAgent;
let echo: Started & { inboundPort: number };
let fileClient: Started & { outboundPort: number; adminPort: number };
let mixedClient: Started & { outboundPort: number; adminPort: number };

/** A sidecar started by hand so the test controls its environment (CONSUL_HTTP_ADDR as on a Consul VM). */
async function sidecar(service: string, config: string, appPort: number, extra: string[] = []) {
  const [inboundPort, outboundPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const s = await mesh.group.spawn(`sidecar-${service}`, [BUN, join(ROOT, "sidecar/main.ts"), "--config", config, "--service", service, "--app-port", String(appPort),
    "--inbound-port", String(inboundPort), "--outbound-port", String(outboundPort), "--admin-port", String(adminPort),
    ...(await mesh.memberArgs(service)), "--access-log", "off", ...extra], { env: { CONSUL_HTTP_ADDR: consul.httpAddr, MESH_CONSUL: "" } });
  return { ...s, inboundPort, outboundPort, adminPort };
}

const call = async (outbound: number) => (await fetch(`http://127.0.0.1:${outbound}/hello`, { headers: { host: "echo" } })).status;
const agentServices = async () => Object.keys((await (await fetch(`${consul.httpAddr}/v1/agent/services`)).json()) as Record<string, unknown>);
const modeLine = (s: Started) => mesh.group.output(s.pid).split("\n").filter((l) => l.includes('"msg":"mode"')).map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(async () => {
  consul = await startConsul();
  await mesh.startCa();
  const echoInbound = await freePort();
  // echo's instance is listed in the file: file mode (and mixed mode, while Consul has no echo) reaches it there.
  const config = mesh.writeConfig({ services: { echo: { instances: [{ id: "echo-file", address: "127.0.0.1", port: echoInbound }] }, client: {}, mixed: {} } });
  echo = await mesh.startSidecar({ config, service: "echo", appPort: app.port, inboundPort: echoInbound });
  fileClient = await sidecar("client", config, 1);
  mixedClient = await sidecar("mixed", config, 1, ["--consul", consul.httpAddr]);
}, 120_000);

afterAll(async () => {
  await mesh.stop();
  await consul?.stop();
  app.stop();
}, 30_000);

test("file mode with CONSUL_HTTP_ADDR set: serves from the file's instances, never registers, logs why", async () => {
  expect(await call(fileClient.outboundPort)).toBe(200);
  const services = await agentServices();
  expect(services).not.toContain("client");
  expect(services.some((id) => id.startsWith("client"))).toBe(false);
  const lines = modeLine(fileClient);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatchObject({ level: 30 /* info */, mode: "file", why: expect.stringContaining("CONSUL_HTTP_ADDR is set but ignored") });
  expect(lines[0]!.consul).toBeUndefined();
  // Its admin has no discovery: nothing came from Consul.
  const d = await fetch(`http://127.0.0.1:${fileClient.adminPort}/discovery`);
  expect(d.status === 404 || !JSON.stringify(await d.json()).includes("consul")).toBe(true);
}, 30_000);

test("mixed mode keeps the file's instances of a service Consul does not know, and follows Consul once it does", async () => {
  expect(modeLine(mixedClient)[0]).toMatchObject({ mode: "file+consul-endpoints", consul: consul.httpAddr });
  await until(async () => (await agentServices()).some((id) => id.startsWith("mixed")), 8000);
  expect(await call(mixedClient.outboundPort)).toBe(200);
  // Consul learns of echo with one failing instance: Consul's (empty) passing set wins over the file now.
  const put = await fetch(`${consul.httpAddr}/v1/agent/service/register`, { method: "PUT", body: JSON.stringify({
    Name: "echo", ID: "echo-consul", Address: "127.0.0.1", Port: echo.inboundPort, Check: { CheckID: "echo-consul-ttl", TTL: "30s", Status: "critical" } }) });
  expect(put.ok).toBe(true);
  await until(async () => (await call(mixedClient.outboundPort)) === 503, 5000);
  await fetch(`${consul.httpAddr}/v1/agent/check/pass/echo-consul-ttl`, { method: "PUT" });
  await until(async () => (await call(mixedClient.outboundPort)) === 200, 5000);
  // Deregistered: Consul knows no echo any more, so the file's instance serves again.
  await fetch(`${consul.httpAddr}/v1/agent/service/deregister/echo-consul`, { method: "PUT" });
  await until(async () => {
    const c = (await (await fetch(`http://127.0.0.1:${mixedClient.adminPort}/clusters`)).text());
    return c.includes("echo-file") && !c.includes("echo-consul");
  }, 5000);
  expect(await call(mixedClient.outboundPort)).toBe(200);
  // The file-mode client was never affected.
  expect(await call(fileClient.outboundPort)).toBe(200);
}, 30_000);

test("neither --config nor --consul: exit 2 with a message that says how to pick a mode", async () => {
  const proc = Bun.spawn([BUN, join(ROOT, "sidecar/main.ts"), "--service", "x", "--app-port", "1", ...(await mesh.memberArgs("x"))], {
    env: { ...process.env, CONSUL_HTTP_ADDR: consul.httpAddr, MESH_CONSUL: "", MESH_CONFIG: "" }, stdout: "pipe", stderr: "pipe" });
  try {
    const code = await Promise.race([proc.exited, Bun.sleep(15_000).then(() => -1)]);
    expect(code).toBe(2);
    expect(await new Response(proc.stderr).text()).toContain("add --consul auto to use it");
  } finally {
    proc.kill("SIGKILL");
  }
}, 30_000);
