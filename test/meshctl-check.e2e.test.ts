// meshctl check and proxy-config against a real Consul dev agent, a real CA and a sidecar reading its config from
// KV: a healthy one-sidecar mesh passes; a broken document FAILs with key, path and reason while the member holds.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { stringify } from "yaml";
import { TestMesh, startTestApp, ROOT } from "./support/mesh.ts";
import { freePort } from "../deploy/lib/ports.ts";
import { until } from "./support/until.ts";
import { startConsul, type ConsulAgent } from "../deploy/lib/consul-agent.ts";
import { BUN } from "../deploy/lib/process-group.ts";

const mesh = new TestMesh();
const app = startTestApp("echo");
let consul: ConsulAgent;
let admin = 0;

async function kvPut(key: string, doc: unknown): Promise<void> {
  const res = await fetch(`${consul.httpAddr}/v1/kv/${key}`, { method: "PUT", body: typeof doc === "string" ? doc : stringify(doc) });
  if (!res.ok) throw new Error(`kv put ${key}: ${res.status}`);
}

async function meshctl(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const p = Bun.spawn([BUN, join(ROOT, "cli/meshctl.ts"), ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, MESH_CA: undefined, MESH_CA_FINGERPRINT: undefined } });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out, err };
}
const caFlags = () => ["--ca", mesh.caUrl, "--ca-fingerprint", mesh.ca!.fingerprint];

beforeAll(async () => {
  consul = await startConsul();
  await mesh.startCa();
  await kvPut("mesh/settings", { trustDomain: "mesh.local" });
  await kvPut("mesh/services/echo", {});
  await mesh.group.spawn("sidecar-echo-1", [BUN, join(ROOT, "sidecar/main.ts"), "--consul", consul.httpAddr, "--service", "echo", "--instance", "echo-1",
    "--app-port", String(app.port), "--inbound-port", String(await freePort()), "--outbound-port", String(await freePort()),
    "--admin-port", String((admin = await freePort())), ...(await mesh.memberArgs("echo")), "--access-log", "off", "--drain-delay", "200ms"]);
  await until(async () => ((await (await fetch(`${consul.httpAddr}/v1/health/service/echo?passing=1`)).json()) as unknown[]).length === 1, 10_000, 100);
  await until(async () => (await fetch(`${consul.httpAddr}/v1/kv/mesh-status/echo-1`)).status === 200, 10_000, 100);
}, 120_000);

afterAll(async () => {
  // Every process by the PID its group recorded (ProcessGroup / the Consul agent), also when a test failed.
  await mesh.stop();
  await consul?.stop();
  app.stop();
}, 30_000);

let appliedVersion = 0;

test("check passes on a healthy one-sidecar mesh; proxy-config shows the applied version and source", async () => {
  const r = await meshctl("check", "--consul", consul.httpAddr, ...caFlags());
  console.log(r.out);
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/^PASS consul: .* reachable, leader /m);
  expect(r.out).toMatch(/^PASS consul-clock: /m);
  expect(r.out).toContain("PASS config: 2 documents under mesh/ parse and validate");
  expect(r.out).toMatch(/^PASS member echo-1: sidecar echo passing, config \d+ \(consul-kv mesh\/ @\d+/m);
  // The member publishes its leaf's validity with its status (member/status-report.ts): a fresh day-long leaf passes.
  expect(r.out).toMatch(/^PASS certificate echo-1: expires in \d+\.\d h/m);
  expect(r.out).toContain(`PASS ca: ${mesh.caUrl} reachable; its trust bundle holds the pinned root ${mesh.ca!.fingerprint}`);

  const j = await meshctl("proxy-config", "echo-1", "--consul", consul.httpAddr, "--json");
  expect(j.code).toBe(0);
  const p = JSON.parse(j.out) as { version: number; source: string; appliedAt: string; rejectedDocuments: unknown[]; health: string };
  expect(p.version).toBeGreaterThan(0);
  expect(p.source).toStartWith("consul-kv mesh/ @");
  expect(p.health).toBe("passing");
  expect(p.rejectedDocuments).toEqual([]);
  appliedVersion = p.version;
  const text = await meshctl("proxy-config", "echo-1", "--consul", consul.httpAddr);
  console.log(text.out);
  expect(text.out).toContain(`version:   ${p.version}`);
}, 30_000);

test("a broken document: check FAILs with key, path and reason; the member keeps its last good config", async () => {
  await kvPut("mesh/routes/broken", { match: { path: { regex: "(" } }, action: { directResponse: { status: 200 } } });
  const r = await meshctl("check", "--consul", consul.httpAddr, "--json");
  expect(r.code).toBe(1);
  const verdicts = (JSON.parse(r.out) as { verdicts: Array<{ level: string; check: string; detail: string }>; exitCode: number }).verdicts;
  expect(verdicts.find((v) => v.check === "config")).toMatchObject({ level: "FAIL", detail: expect.stringContaining("mesh/routes/broken: match.path.regex: invalid regular expression") });
  expect(verdicts.find((v) => v.check === "ca")?.level).toBe("INFO"); // no CA flags: skipped

  // The member rejected it and serves its last good version: proxy-config shows the same version and the rejection.
  await until(async () => ((await (await fetch(`http://127.0.0.1:${admin}/config`)).json()) as { rejectedDocuments: Array<{ source: string }> }).rejectedDocuments.some((i) => i.source === "mesh/routes/broken"), 5000, 50);
  const p = await meshctl("proxy-config", "echo-1", "--consul", consul.httpAddr);
  console.log(p.out);
  expect(p.code).toBe(0);
  expect(p.out).toContain(`version:   ${appliedVersion}`);
  expect(p.out).toContain("documents under mesh/ that fail validation now (members reject them and keep their last good version):");
  expect(p.out).toContain("mesh/routes/broken: match.path.regex: invalid regular expression");
  await fetch(`${consul.httpAddr}/v1/kv/mesh/routes/broken`, { method: "DELETE" });
}, 30_000);

test("exit codes: a wrong pinned root FAILs (1), an unknown member is 1 with the known ids, no Consul is 3, usage is 2", async () => {
  const wrong = await meshctl("check", "--consul", consul.httpAddr, "--ca", mesh.caUrl, "--ca-fingerprint", `sha256:${"0".repeat(64)}`);
  expect(wrong.code).toBe(1);
  expect(wrong.out).toMatch(/^FAIL ca: .* not the pinned root sha256:0{64}/m);

  const ghost = await meshctl("proxy-config", "ghost", "--consul", consul.httpAddr);
  expect(ghost.code).toBe(1);
  expect(ghost.err).toContain("known members: echo-1");

  const down = await meshctl("check", "--consul", "http://127.0.0.1:1");
  expect(down.code).toBe(3);
  expect(down.out).toMatch(/^FAIL consul: consul at http:\/\/127.0.0.1:1 unreachable/m);
  expect((await meshctl("proxy-config", "echo-1", "--consul", "http://127.0.0.1:1")).code).toBe(3);

  expect((await meshctl("check", "--consul", consul.httpAddr, "--ca", mesh.caUrl)).code).toBe(2);
  expect((await meshctl("proxy-config", "--consul", consul.httpAddr)).code).toBe(2);
}, 30_000);
