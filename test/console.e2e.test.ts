// The gateway's console against a real mesh in Consul mode: a real Consul agent, our CA, a gateway and three
// sidecars over mTLS, live traffic, a broken KV document. Checked through /console/data and in a real headless
// Chromium (Debian's, fetched by deploy/console/provision-chromium.sh) whose screenshot the test saves.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import puppeteer, { type Browser } from "puppeteer-core";
import { TestMesh, startTestApp, ROOT } from "./support/mesh.ts";
import { freePort } from "../deploy/lib/ports.ts";
import { until } from "./support/until.ts";
import { startConsul, type ConsulAgent } from "../deploy/lib/consul-agent.ts";
import { BUN } from "../deploy/lib/process-group.ts";
import type { ConsoleView } from "../console/view.ts";

const mesh = new TestMesh();
const echoApp = startTestApp("echo");
const webApp = startTestApp("web");
let consul: ConsulAgent;
let gatewayUrl = "";
let consoleUrl = "";
let webOutbound = 0;
let browser: Browser | undefined;
let traffic: ReturnType<typeof setInterval> | undefined;
/** Where the screenshot goes (ignored by git with the rest of .mesh/). */
const SHOT = join(ROOT, ".mesh/test-artifacts/console.png");

async function kvPut(key: string, body: string): Promise<void> {
  const res = await fetch(`${consul.httpAddr}/v1/kv/${key}`, { method: "PUT", body });
  if (!res.ok) throw new Error(`kv put ${key}: ${res.status}`);
}

async function sidecar(service: string, instance: string, appPort: number, metrics: boolean): Promise<{ outboundPort: number }> {
  const outboundPort = await freePort();
  await mesh.group.spawn(`sidecar-${instance}`, [BUN, join(ROOT, "sidecar/main.ts"), "--consul", consul.httpAddr, "--service", service, "--instance", instance,
    "--app-port", String(appPort), "--inbound-port", String(await freePort()), "--outbound-port", String(outboundPort),
    "--admin-port", String(await freePort()), ...(await mesh.memberArgs(service)), "--access-log", "off", "--drain-delay", "100ms",
    // The console finds a member's /metrics in its registration only when it has a metrics listener.
    ...(metrics ? ["--metrics-address", `127.0.0.1:${await freePort()}`] : [])]);
  return { outboundPort };
}

const data = async (): Promise<ConsoleView> => (await (await fetch(`${consoleUrl}/data`)).json()) as ConsoleView;

beforeAll(async () => {
  consul = await startConsul();
  await mesh.startCa();
  const gatewayPort = await freePort();
  const config = mesh.writeConfig({
    trustDomain: "mesh.local",
    services: { echo: {}, web: {} },
    gateway: {
      name: "edge",
      listeners: [{ name: "http", address: "127.0.0.1", port: gatewayPort }],
      routes: [{ name: "echo", match: { path: { prefix: "/echo" } }, action: { destinations: [{ service: "echo" }] } }],
    },
  });
  const apply = Bun.spawnSync([BUN, join(ROOT, "cli/meshctl.ts"), "apply", "-f", config, "--consul", consul.httpAddr]);
  expect(apply.exitCode).toBe(0);
  await sidecar("echo", "echo-1", echoApp.port, true);
  await sidecar("echo", "echo-2", echoApp.port, false);
  webOutbound = (await sidecar("web", "web-1", webApp.port, true)).outboundPort;
  const adminPort = await freePort();
  await mesh.group.spawn("gateway", [BUN, join(ROOT, "gateway/main.ts"), "--consul", consul.httpAddr, ...(await mesh.memberArgs("edge")), "--admin-port", String(adminPort), "--access-log", "off"]);
  gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  consoleUrl = `http://127.0.0.1:${adminPort}/console`;
  await until(async () => ((await (await fetch(`${consul.httpAddr}/v1/health/service/echo?passing=1`)).json()) as unknown[]).length === 2, 15_000, 100);
  await until(async () => (await fetch(`${gatewayUrl}/echo`)).status === 200, 15_000, 100);
  // Live traffic for the whole file: the gateway to echo, and web's app calling echo through its sidecar.
  traffic = setInterval(() => {
    for (let i = 0; i < 5; i++) {
      fetch(`${gatewayUrl}/echo/${i}`).then((r) => r.arrayBuffer(), () => undefined);
      fetch(`http://127.0.0.1:${webOutbound}/from-web`, { headers: { host: "echo" } }).then((r) => r.arrayBuffer(), () => undefined);
    }
  }, 50);
}, 120_000);

afterAll(async () => {
  if (traffic !== undefined) clearInterval(traffic);
  await browser?.close().catch(() => undefined);
  // Every process by the PID its group recorded, and the agent by its own, also when a test failed.
  await mesh.stop();
  await consul?.stop();
  echoApp.stop();
  webApp.stop();
}, 30_000);

test("/console/data: members from Consul with health and certificates; edges with live requests/s, errors and p99", async () => {
  let v = await data();
  await until(async () => {
    v = await data();
    const e = v.edges.find((x) => x.from === "edge" && x.to === "echo");
    return e !== undefined && e.rps > 0 && e.p99Ms !== undefined && v.edges.some((x) => x.from === "web" && x.to === "echo" && x.rps > 0);
  }, 20_000, 500);
  const gw = v.edges.find((x) => x.from === "edge" && x.to === "echo")!;
  expect(gw).toMatchObject({ reporter: "source", errorRatio: 0 });
  expect(gw.rps).toBeGreaterThan(5);
  expect(gw.p99Ms).toBeGreaterThan(0);
  expect(v.members.map((m) => [m.id, m.service, m.kind, m.health])).toEqual([
    ["echo-1", "echo", "sidecar", "passing"], ["echo-2", "echo", "sidecar", "passing"], [expect.stringMatching(/^edge-\d+$/), "edge", "gateway", "passing"], ["web-1", "web", "sidecar", "passing"],
  ]);
  const echo1 = v.members.find((m) => m.id === "echo-1")!;
  expect(echo1.spiffeId).toBe("spiffe://mesh.local/ns/default/svc/echo");
  expect(echo1.certHoursLeft).toBeGreaterThan(23);
  expect(echo1.address).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  // echo-2 has no metrics listener: Consul's health and its status report (certificate expiry) still show it.
  const echo2 = v.members.find((m) => m.id === "echo-2")!;
  expect(echo2.address).toContain("no metrics listener");
  await until(async () => ((await data()).members.find((m) => m.id === "echo-2")!.certHoursLeft ?? 0) > 23, 10_000, 200);
  expect(v.services).toContainEqual({ name: "echo", kind: "sidecar", instances: 2, healthy: 2 });
  expect(v.rejected).toEqual([]);
}, 60_000);

test("a broken KV document shows with key, path and reason while the last good config keeps serving", async () => {
  await kvPut("mesh/routes/broken", stringify({ match: { path: { regex: "(" } }, action: { directResponse: { status: 200 } } }));
  let v = await data();
  await until(async () => (v = await data()).rejected.length > 0, 10_000, 200);
  expect(v.rejected).toEqual([{ source: "mesh/routes/broken", path: "match.path.regex", message: expect.stringContaining("invalid regular expression"), scope: "document" }]);
  expect((await fetch(`${gatewayUrl}/echo`)).status).toBe(200);
}, 30_000);

test("the console answers only loopback Host names and GET (no DNS rebinding, no writes)", async () => {
  const foreign = await fetch(`${consoleUrl}/data`, { headers: { host: "console.attacker.example" } });
  expect(foreign.status).toBe(421);
  expect((await fetch(`${consoleUrl}/data`, { method: "POST" })).status).toBe(405);
  const page = await fetch(consoleUrl, { headers: { host: "localhost" } });
  expect(page.status).toBe(200);
  expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
}, 10_000);

test("in headless Chromium the page shows the graph with live numbers, members and the rejected document", async () => {
  const provision = Bun.spawnSync(["bash", join(ROOT, "deploy/console/provision-chromium.sh")], { stderr: "pipe" });
  if (provision.exitCode !== 0) throw new Error(`provision-chromium failed: ${provision.stderr.toString()}`);
  const executablePath = provision.stdout.toString().trim().split("\n").pop()!;
  browser = await puppeteer.launch({ executablePath, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.setViewport({ width: 1280, height: 900 });
  await page.goto(consoleUrl, { waitUntil: "load" });
  // Numbers, not placeholders: wait until the edge label on the graph carries a non-zero rate.
  await page.waitForFunction(() => {
    const label = document.querySelector('svg [data-edge="edge->echo"]')?.textContent ?? "";
    return /^[1-9][\d.]* rps · [\d.]+ % err · p99 [\d.]+ ms$/.test(label) || /^0\.\d*[1-9]\d* rps/.test(label);
  }, { timeout: 20_000 });
  const shown = await page.evaluate(() => ({
    edgeLabel: document.querySelector('svg [data-edge="edge->echo"]')?.textContent ?? "",
    webLabel: document.querySelector('svg [data-edge="web->echo"]')?.textContent ?? "",
    nodes: [...document.querySelectorAll("svg g.node")].map((g) => g.getAttribute("data-service")).sort(),
    members: [...document.querySelectorAll("#members tbody tr")].map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")),
    rejected: [...document.querySelectorAll("#rejected tbody tr")].map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")),
    edges: [...document.querySelectorAll("#edges tbody tr")].map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")),
  }));
  mkdirSync(join(ROOT, ".mesh/test-artifacts"), { recursive: true });
  await page.screenshot({ path: SHOT, fullPage: true });
  writeFileSync(SHOT.replace(/\.png$/, ".json"), JSON.stringify(shown, null, 2));
  console.log(`console screenshot: ${SHOT}\n${JSON.stringify(shown.edges)}`);
  expect(errors).toEqual([]);
  expect(shown.nodes).toEqual(["echo", "edge", "web"]);
  expect(shown.webLabel).toMatch(/rps · [\d.]+ % err · p99 [\d.]+ ms$/);
  const gwRow = shown.edges.find((r) => r[0] === "edge" && r[1] === "echo")!;
  expect(Number(gwRow[2])).toBeGreaterThan(0);
  expect(gwRow[4]).toMatch(/^[\d.]+ ms$/);
  const echo1 = shown.members.find((r) => r[1] === "echo-1")!;
  expect(echo1[0]).toBe("echo");
  expect(echo1[3]).toBe("passing");
  expect(echo1[5]).toMatch(/^2\d\.\d h \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\)$/);
  expect(shown.members.length).toBe(4);
  expect(shown.rejected).toEqual([["mesh/routes/broken", "match.path.regex", expect.stringContaining("invalid regular expression")]]);
}, 90_000);
