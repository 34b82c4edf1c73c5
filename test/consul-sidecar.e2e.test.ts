// A sidecar in Consul mode against a real agent: endpoints come from Consul's passing instances, a failing
// check takes an instance out of rotation, and a downed agent leaves traffic flowing on the last known endpoints.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { TestMesh, startTestApp } from "./support/mesh.ts";
import { freePort } from "../deploy/lib/ports.ts";
import { until } from "./support/until.ts";
import { startConsul, type ConsulAgent } from "../deploy/lib/consul-agent.ts";
import { BUN } from "../deploy/lib/process-group.ts";
import { join } from "node:path";
import { ROOT } from "./support/mesh.ts";

const mesh = new TestMesh();
const app = startTestApp("upstream");
let consul: ConsulAgent;
let outbound = 0;
let admin = 0;

async function consulPut(path: string, body?: unknown): Promise<void> {
  const res = await fetch(`${consul.httpAddr}${path}`, { method: "PUT", body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
}


const status = async () => (await fetch(`http://127.0.0.1:${outbound}/x`, { headers: { host: "upstream" } })).status;

beforeAll(async () => {
  consul = await startConsul();
  await mesh.startCa();
  // The file declares the service but no instances: Consul says where they are.
  const config = mesh.writeConfig({ services: { upstream: {}, client: {} } });
  const inbound = await mesh.startSidecar({ config, service: "upstream", appPort: app.port });
  await consulPut("/v1/agent/service/register", {
    Name: "upstream", ID: "upstream-1", Address: "127.0.0.1", Port: inbound.inboundPort,
    Check: { CheckID: "upstream-1-ttl", TTL: "30s", Status: "passing" },
  });
  [outbound, admin] = [await freePort(), await freePort()];
  await mesh.group.spawn("sidecar-client", [BUN, join(ROOT, "sidecar/main.ts"), "--config", config, "--service", "client", "--app-port", "1",
    "--inbound-port", String(await freePort()), "--outbound-port", String(outbound), "--admin-port", String(admin), ...(await mesh.memberArgs("client")),
    "--consul", consul.httpAddr, "--access-log", "off"]);
}, 120_000);

afterAll(async () => {
  await mesh.stop();
  await consul?.stop();
  app.stop();
}, 30_000);

test("endpoints come from Consul; a failing check drains the instance within a second, a passing one restores it", async () => {
  await until(async () => (await status()) === 200);
  await consulPut("/v1/agent/check/fail/upstream-1-ttl");
  const out = await until(async () => (await status()) === 503);
  expect(out).toBeLessThan(1000);
  await consulPut("/v1/agent/check/pass/upstream-1-ttl");
  const back = await until(async () => (await status()) === 200);
  expect(back).toBeLessThan(1000);
  console.log(`consul endpoint propagation to the outbound sidecar: check fail -> out of rotation ${out.toFixed(0)} ms, pass -> back ${back.toFixed(0)} ms`);
  const d = (await (await fetch(`http://127.0.0.1:${admin}/discovery`)).json()) as { source: string; services: Record<string, { endpoints: number }> };
  expect(d.source).toBe("consul");
  expect(d.services.upstream!.endpoints).toBe(1);
}, 30_000);

test("with the Consul agent down, traffic keeps flowing on the last known endpoints and the admin says so", async () => {
  await consul.stop();
  for (let i = 0; i < 20; i++) expect(await status()).toBe(200);
  await until(async () => {
    const d = (await (await fetch(`http://127.0.0.1:${admin}/discovery`)).json()) as { services: Record<string, { consecutiveFailures: number; lastError?: string }> };
    return (d.services.upstream?.consecutiveFailures ?? 0) > 0;
  }, 5000);
  for (let i = 0; i < 20; i++) expect(await status()).toBe(200);
}, 30_000);
