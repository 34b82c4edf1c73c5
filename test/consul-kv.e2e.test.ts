// Config from Consul KV against a real agent: documents under mesh/ drive routing, a change applies live under
// load with zero failed requests, and a bad document is rejected with its key and path while its last good
// version keeps serving.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { stringify } from "yaml";
import { TestMesh, startTestApp, ROOT } from "./support/mesh.ts";
import { freePort } from "../deploy/lib/ports.ts";
import { until } from "./support/until.ts";
import { startConsul, type ConsulAgent } from "../deploy/lib/consul-agent.ts";
import { BUN } from "../deploy/lib/process-group.ts";

const mesh = new TestMesh();
const a = startTestApp("a");
const b = startTestApp("b");
let consul: ConsulAgent;
let outbound = 0;
let admin = 0;

async function kvPut(key: string, doc: unknown): Promise<void> {
  const res = await fetch(`${consul.httpAddr}/v1/kv/${key}`, { method: "PUT", body: typeof doc === "string" ? doc : stringify(doc) });
  if (!res.ok) throw new Error(`kv put ${key}: ${res.status}`);
}

const split = (wa: number, wb: number) => ({
  match: { host: ["upstream"] },
  action: { destinations: [{ service: "upstream", subset: "a", weight: wa }, { service: "upstream", subset: "b", weight: wb }] },
});

async function sidecar(name: string, service: string, appPort: number, extra: string[], outboundPort?: number, adminPort?: number): Promise<void> {
  await mesh.group.spawn(name, [BUN, join(ROOT, "sidecar/main.ts"), "--consul", consul.httpAddr, "--service", service, "--instance", name,
    "--app-port", String(appPort), "--inbound-port", String(await freePort()), "--outbound-port", String(outboundPort ?? (await freePort())),
    "--admin-port", String(adminPort ?? (await freePort())), ...(await mesh.memberArgs(service)), "--access-log", "off", "--drain-delay", "200ms", ...extra]);
}

const hit = async (): Promise<string> => {
  const res = await fetch(`http://127.0.0.1:${outbound}/x`, { headers: { host: "upstream" } });
  const body = (await res.json()) as { app?: string };
  if (res.status !== 200 || body.app === undefined) throw new Error(`${res.status} ${JSON.stringify(body)}`);
  return body.app;
};

beforeAll(async () => {
  consul = await startConsul();
  await mesh.startCa();
  await kvPut("mesh/settings", { trustDomain: "mesh.local" });
  await kvPut("mesh/services/upstream", { subsets: { a: { tags: ["a"] }, b: { tags: ["b"] } } });
  await kvPut("mesh/services/client", {});
  await kvPut("mesh/routes/upstream-split", split(100, 0));
  await sidecar("upstream-a", "upstream", a.port, ["--tag", "a"]);
  await sidecar("upstream-b", "upstream", b.port, ["--tag", "b"]);
  [outbound, admin] = [await freePort(), await freePort()];
  await sidecar("client-1", "client", 1, [], outbound, admin);
  await until(async () => ((await (await fetch(`${consul.httpAddr}/v1/health/service/upstream?passing=1`)).json()) as unknown[]).length === 2, 10_000, 100);
}, 120_000);

afterAll(async () => {
  await mesh.stop();
  await consul?.stop();
  a.stop();
  b.stop();
}, 30_000);

test("routes come from KV; a change applies under load with zero failures, within a second", async () => {
  for (let i = 0; i < 10; i++) expect(await hit()).toBe("a");
  let stop = false;
  const failures: string[] = [];
  let sawB = 0;
  const worker = async () => {
    while (!stop) {
      try {
        if ((await hit()) === "b") sawB = performance.now();
      } catch (err) {
        failures.push(String(err));
      }
    }
  };
  const workers = Array.from({ length: 6 }, worker);
  await Bun.sleep(200);
  const changedAt = performance.now();
  await kvPut("mesh/routes/upstream-split", split(0, 100));
  const end = performance.now() + 3000;
  while (sawB === 0 && performance.now() < end) await Bun.sleep(10);
  await Bun.sleep(200);
  stop = true;
  await Promise.all(workers);
  expect(failures).toEqual([]);
  expect(sawB).toBeGreaterThan(0);
  const propagation = sawB - changedAt;
  console.log(`KV route change -> traffic moved in ${propagation.toFixed(0)} ms`);
  expect(propagation).toBeLessThan(1000);
  for (let i = 0; i < 10; i++) expect(await hit()).toBe("b");
}, 30_000);

test("a bad document is rejected with its key, path and reason; its last good version keeps serving", async () => {
  await kvPut("mesh/routes/upstream-split", "match: { host: [upstream] }\naction: { destinations: [{ service: upstream, subset: a, weight: lots }] }\n");
  await kvPut("mesh/routes/broken", { match: { path: { regex: "([unclosed" } }, action: { directResponse: { status: 200 } } });
  type Status = { rejectedDocuments: Array<{ source: string; path: string; message: string }>; rejected: Array<{ source: string; path: string; message: string }> };
  let status: Status | undefined;
  const end = Date.now() + 3000;
  while (Date.now() < end) {
    status = (await (await fetch(`http://127.0.0.1:${admin}/config`)).json()) as Status;
    if (status.rejectedDocuments.length >= 2) break;
    await Bun.sleep(50);
  }
  const docs = status!.rejectedDocuments;
  expect(docs.find((i) => i.source === "mesh/routes/upstream-split")?.path).toBe("action.destinations[0].weight");
  const regex = docs.find((i) => i.source === "mesh/routes/broken");
  expect(regex?.path).toBe("match.path.regex");
  expect(regex?.message).toContain("invalid regular expression");
  expect(status!.rejected).toEqual([]); // the other documents still assemble into a valid config
  // The last good upstream-split (all to b) still serves.
  for (let i = 0; i < 10; i++) expect(await hit()).toBe("b");
}, 30_000);

test("meshctl status lists every registered sidecar with its health and the config index it applied", async () => {
  const p = Bun.spawn([BUN, join(ROOT, "cli/meshctl.ts"), "status", "--json", "--consul", consul.httpAddr], { stdout: "pipe", stderr: "pipe" });
  const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  expect(code).toBe(0);
  const members = JSON.parse(out) as Array<{ id: string; kind: string; health: string; config: string; source: string }>;
  expect(members.map((m) => m.id).sort()).toEqual(["client-1", "upstream-a", "upstream-b"]);
  for (const m of members) {
    expect(m.kind).toBe("sidecar");
    expect(m.health).toBe("passing");
    expect(Number(m.config)).toBeGreaterThan(0);
    expect(m.source).toStartWith("consul-kv mesh/ @");
  }
}, 30_000);
