// Sidecar registration against a real Consul agent: the registered fields, the health check following the app,
// re-registration after the agent forgets us, and SIGTERM under load with zero failed requests at the callers.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { TestMesh, startTestApp, ROOT } from "./support/mesh.ts";
import { freePort } from "../deploy/lib/ports.ts";
import { until } from "./support/until.ts";
import { startConsul, type ConsulAgent } from "../deploy/lib/consul-agent.ts";
import { BUN, type Started } from "../deploy/lib/process-group.ts";

const mesh = new TestMesh();
let appHealthy = true;
const a = startTestApp("a", (req) => (new URL(req.url).pathname === "/health" && !appHealthy ? new Response("down", { status: 500 }) : Response.json({ app: "a" })));
const b = startTestApp("b");
let consul: ConsulAgent;
let config = "";
let clientOutbound = 0;

type Agent = { Service: { ID: string; Service: string; Address: string; Port: number; Tags: string[]; Meta: Record<string, string> } };

async function consulGet(path: string): Promise<Response> {
  return fetch(`${consul.httpAddr}${path}`);
}


const passingIds = async (): Promise<string[]> =>
  ((await (await consulGet("/v1/health/service/upstream?passing=1")).json()) as Array<{ Service: { ID: string } }>).map((e) => e.Service.ID).sort();

async function sidecar(id: string, appPort: number, extra: string[] = []): Promise<Started> {
  return mesh.group.spawn(`sidecar-${id}`, [BUN, join(ROOT, "sidecar/main.ts"), "--config", config, "--service", "upstream", "--instance", id,
    "--app-port", String(appPort), "--inbound-port", String(await freePort()), "--outbound-port", String(await freePort()),
    "--admin-port", String(await freePort()), ...(await mesh.memberArgs("upstream")), "--consul", consul.httpAddr, "--access-log", "off", "--drain-delay", "500ms", ...extra]);
}

let sidecarA: Started;
let metricsPort = 0;

beforeAll(async () => {
  consul = await startConsul();
  await mesh.startCa();
  config = mesh.writeConfig({ services: { upstream: { policy: { retries: { attempts: 2 } } }, client: {} } });
  metricsPort = await freePort();
  sidecarA = await sidecar("upstream-a", a.port, ["--tag", "v1", "--tag", "blue", "--meta", "version=v1", "--app-health-path", "/health", "--metrics-address", `127.0.0.1:${metricsPort}`]);
  await sidecar("upstream-b", b.port, ["--tag", "v1"]);
  clientOutbound = await freePort();
  await mesh.group.spawn("sidecar-client", [BUN, join(ROOT, "sidecar/main.ts"), "--config", config, "--service", "client", "--app-port", "1",
    "--inbound-port", String(await freePort()), "--outbound-port", String(clientOutbound), "--admin-port", String(await freePort()),
    ...(await mesh.memberArgs("client")), "--consul", consul.httpAddr, "--access-log", "off"]);
  await until(async () => (await passingIds()).length === 2, 8000, 50);
}, 120_000);

afterAll(async () => {
  await mesh.stop();
  await consul?.stop();
  a.stop();
  b.stop();
}, 30_000);

test("the registration carries the inbound listener, tags, meta and an HTTP check on the admin /ready", async () => {
  const svc = ((await (await consulGet("/v1/agent/service/upstream-a")).json()) as Agent["Service"]);
  expect(svc.Service).toBe("upstream");
  expect(svc.Address).toBe("127.0.0.1");
  expect(svc.Port).toBe(Number(sidecarA.ready.inboundPort));
  expect(svc.Tags).toEqual(["v1", "blue"]);
  expect(svc.Meta).toMatchObject({ kind: "sidecar", version: "v1" }); // version from --meta; nothing added by default
  // Where prometheus.consul.yml scrapes: only a member with a separate metrics listener advertises one.
  expect(svc.Meta).toMatchObject({ metrics_port: String(metricsPort), metrics_address: "127.0.0.1" });
  // Without --meta and --metrics-address: only the member's kind (what prometheus.consul.yml selects on), no version or protocol.
  expect(((await (await consulGet("/v1/agent/service/upstream-b")).json()) as Agent["Service"]).Meta).toEqual({ kind: "sidecar" });
  const checks = (await (await consulGet("/v1/agent/checks")).json()) as Record<string, { ServiceID: string; Status: string; Type?: string }>;
  expect(checks["upstream-a:ready"]).toMatchObject({ ServiceID: "upstream-a", Status: "passing" });
});

test("an unhealthy app turns the check critical and takes the instance out of discovery; healthy again brings it back", async () => {
  // Each way is the app probe (every 2 s) then Consul's check (every 2 s, 1 s timeout): ~2-4 s idle, more on a busy
  // CI machine (one full-suite run missed 8 s). The last answer seen goes into the error, to tell which side lagged.
  let seen = "";
  const passing = (want: string) => async () => (seen = (await passingIds()).join()) === want;
  appHealthy = false;
  try {
    await until(passing("upstream-b"), 15_000, 50).catch((e: Error) => Promise.reject(new Error(`${e.message}; passing: [${seen}]`)));
  } finally {
    appHealthy = true; // the tests after this one need a healthy app, whatever happened above
  }
  await until(passing("upstream-a,upstream-b"), 15_000, 50).catch((e: Error) => Promise.reject(new Error(`${e.message}; passing: [${seen}]`)));
}, 40_000);

test("the sidecar registers again after the agent forgot it", async () => {
  await fetch(`${consul.httpAddr}/v1/agent/service/deregister/upstream-b`, { method: "PUT" });
  await until(async () => (await consulGet("/v1/agent/service/upstream-b")).status === 200, 10_000);
}, 30_000);

test("SIGTERM on an instance under load: it leaves rotation, drains, deregisters, exits 0, and callers see zero failures", async () => {
  await until(async () => (await passingIds()).length === 2, 8000, 50);
  let stop = false;
  const failures: string[] = [];
  let ok = 0;
  const worker = async () => {
    while (!stop) {
      const res = await fetch(`http://127.0.0.1:${clientOutbound}/load`, { headers: { host: "upstream" } }).catch((e: unknown) => String(e));
      if (typeof res === "string") failures.push(res);
      else if (res.status !== 200) failures.push(`${res.status} ${await res.text()}`);
      else {
        ok++;
        await res.arrayBuffer();
      }
    }
  };
  const workers = Array.from({ length: 8 }, worker);
  await Bun.sleep(300);
  sidecarA.proc.kill("SIGTERM");
  const code = await sidecarA.proc.exited;
  await Bun.sleep(300);
  stop = true;
  await Promise.all(workers);
  expect(code).toBe(0);
  expect(failures).toEqual([]);
  expect(ok).toBeGreaterThan(50);
  expect((await consulGet("/v1/agent/service/upstream-a")).status).toBe(404);
}, 30_000);

test("after the Consul agent restarts empty, the sidecars register again and callers' watches resume", async () => {
  await consul.restart();
  const took = await until(async () => {
    const res = await consulGet("/v1/agent/service/upstream-b").catch(() => undefined);
    return res?.status === 200;
  }, 12_000, 100);
  console.log(`re-registered ${took.toFixed(0)} ms after the agent restart`);
  await until(async () => (await passingIds()).includes("upstream-b"), 8000, 50);
  await until(async () => (await fetch(`http://127.0.0.1:${clientOutbound}/after-restart`, { headers: { host: "upstream" } })).status === 200, 12_000, 100);
}, 40_000);
