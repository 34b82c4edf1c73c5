// Root rotation with real members under load: `meshctl ca rotate` makes every member trust old + new roots, the CA
// switches signing once they all hold the new one (also across a CA restart), and retires the old root; 0 requests fail.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { TestMesh, ROOT, startTestApp } from "./support/mesh.ts";
import { BUN, stopByPid, type Started } from "../deploy/lib/process-group.ts";
import { freePort } from "../deploy/lib/ports.ts";
import { until } from "./support/until.ts";
import type { CaTrustStatus } from "../cli/ca-admin-client.ts";

type Trust = { bundleRoots: string[]; leafRoot: string | undefined; signingRoot: string | undefined };
const mesh = new TestMesh();
const echoApp = startTestApp("echo");
const webApp = startTestApp("web");
let ca: Started;
let caPort = 0;
let gatewayPort = 0;
let config = "";
const admins: number[] = [];
let webOutbound = 0;
let veteran: Started & { adminPort: number };

const trustOf = async (adminPort: number): Promise<Trust> => ((await (await fetch(`http://127.0.0.1:${adminPort}/info`)).json()) as { trust: Trust }).trust;

function meshctl(...args: string[]): { code: number; out: string; err: string } {
  const p = Bun.spawnSync([BUN, join(ROOT, "cli/meshctl.ts"), ...args, "--ca-state", mesh.ca!.stateDir], { stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode ?? -1, out: p.stdout.toString(), err: p.stderr.toString() };
}
const status = (): CaTrustStatus => JSON.parse(meshctl("ca", "status", "--json").out) as CaTrustStatus;

/** Keep-alive loops through the gateway and through web's sidecar to echo; every non-200 is a failure. */
function startLoad() {
  let sent = 0;
  const failures: string[] = [];
  let running = true;
  const loop = async (url: string, host: string | undefined) => {
    while (running) {
      sent++;
      try {
        const res = await fetch(url, { headers: host === undefined ? {} : { host } });
        await res.arrayBuffer();
        if (res.status !== 200) failures.push(`${url} ${res.status}`);
      } catch (err) {
        failures.push(`${url} ${String(err)}`);
      }
      await Bun.sleep(5);
    }
  };
  const loops = [loop(`http://127.0.0.1:${gatewayPort}/echo`, undefined), loop(`http://127.0.0.1:${gatewayPort}/echo`, undefined), loop(`http://127.0.0.1:${webOutbound}/x`, "echo")];
  return {
    sent: () => sent,
    failures,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

beforeAll(async () => {
  caPort = await freePort();
  ca = await mesh.startCa({ port: caPort });
  gatewayPort = await freePort();
  const echoInbound = await freePort();
  const webInbound = await freePort();
  config = mesh.writeConfig({
    trustDomain: "mesh.local",
    services: {
      echo: { instances: [{ id: "echo-1", address: "127.0.0.1", port: echoInbound }] },
      web: { instances: [{ id: "web-1", address: "127.0.0.1", port: webInbound }] },
    },
    gateway: {
      name: "gateway",
      listeners: [{ name: "http", address: "127.0.0.1", port: gatewayPort }],
      routes: [{ name: "echo", match: { path: { prefix: "/echo" } }, action: { destinations: [{ service: "echo" }], policy: { retries: { attempts: 2, on: ["connect-failure", "reset"] } } } }],
    },
  });
  // Short leaves: renewals run all through the test, and the old root's last leaf expires seconds after the switch.
  const ttl = ["--cert-ttl", "8s"];
  const echo = await mesh.startSidecar({ config, service: "echo", appPort: echoApp.port, inboundPort: echoInbound, extra: ttl });
  const web = await mesh.startSidecar({ config, service: "web", appPort: webApp.port, inboundPort: webInbound, extra: ttl });
  webOutbound = web.outboundPort;
  const gwAdmin = await freePort();
  await mesh.group.spawn("gateway", [BUN, join(ROOT, "gateway/main.ts"), "--config", config, ...(await mesh.gatewayArgs(config)), "--admin-port", String(gwAdmin), "--access-log", "off", ...ttl]);
  // Pinned to the first root and restarted after it is gone (second test); 20 s leaves stay usable across a restart.
  veteran = await mesh.startSidecar({ config, service: "web", appPort: webApp.port, join: [...(await mesh.memberArgs("web", "web-veteran")), "--cert-ttl", "20s"] });
  admins.push(echo.adminPort, web.adminPort, gwAdmin, veteran.adminPort);
}, 60_000);

afterAll(async () => {
  await mesh.stop();
  echoApp.stop();
  webApp.stop();
});

test("rotate the root under load, with a CA restart mid-rotation: members converge on the new root, 0 requests fail", async () => {
  const original = mesh.ca!.fingerprint;
  for (const a of admins) expect((await trustOf(a)).bundleRoots).toEqual([original]);
  const load = startLoad();
  await Bun.sleep(500);

  const started = meshctl("ca", "rotate", "--propagate", "3s", "--json");
  expect(started.code, started.err).toBe(0);
  const s0 = JSON.parse(started.out) as CaTrustStatus;
  expect(s0.phase).toBe("propagating");
  const next = s0.roots.find((r) => r.role === "next")!.fingerprint;
  expect(next).not.toBe(original);
  // A second rotation is refused while one runs, saying why.
  const again = meshctl("ca", "rotate", "--json");
  expect(again.code).not.toBe(0);
  expect(again.out + again.err).toContain("rotation-in-progress");

  // Every member trusts both roots within moments (bundle watch), still on leaves from the old root.
  await until(async () => (await Promise.all(admins.map(trustOf))).every((t) => t.bundleRoots.includes(next) && t.bundleRoots.includes(original)), 5000);

  // The CA restarts mid-rotation: roots.json carries the phase over.
  await stopByPid(ca);
  ca = await mesh.startCa({ port: caPort });
  expect(["propagating", "switched", "idle"]).toContain(status().phase);

  // Switch, early renewals, then the old root retires when its last leaf (8 s) has expired.
  await until(async () => ["switched", "idle"].includes(status().phase), 20_000);
  await until(async () => (await Promise.all(admins.map(trustOf))).every((t) => t.leafRoot === next), 15_000);
  await until(async () => status().phase === "idle", 40_000);
  const done = status();
  expect(done.roots.map((r) => r.fingerprint)).toEqual([next]);
  await until(async () => (await Promise.all(admins.map(trustOf))).every((t) => t.bundleRoots.length === 1 && t.bundleRoots[0] === next), 10_000);
  await Bun.sleep(1000);
  await load.stop();
  console.log(`rotation under load: ${load.sent()} requests, ${load.failures.length} failed`);
  expect(load.failures.slice(0, 5)).toEqual([]);
  expect(load.sent()).toBeGreaterThan(100);
  // `ca fingerprint` now prints the new root, the one new members pin.
  const fp = Bun.spawnSync([BUN, join(ROOT, "ca/main.ts"), "fingerprint", "--state", mesh.ca!.stateDir], { stdout: "pipe" });
  expect(fp.stdout.toString().trim()).toBe(next);
}, 150_000);

test("after the rotation: a new member pinned to the new root joins and old members call it; a member pinned to the old root restarts from its state", async () => {
  const newRoot = status().signingRoot;
  const original = mesh.ca!.fingerprint;
  const t = await mesh.ca!.admin.create({ service: "echo" });
  const app = startTestApp("echo-2");
  try {
    const s = await mesh.startSidecar({ config, service: "echo", appPort: app.port, join: ["--ca", mesh.ca!.url, "--ca-fingerprint", newRoot, "--join-token", t.token, "--state-dir", join(mesh.dir, "state", "echo-new")] });
    const res = await fetch(`http://127.0.0.1:${webOutbound}/hi`, { headers: { host: "echo" } });
    expect(res.status).toBe(200);
    await stopByPid(s);
    // Pinned to the retired root: its stored identity descends from that pin, so it starts with no token and no refusal.
    await stopByPid(veteran);
    const again = await mesh.startSidecar({ config, service: "web", appPort: webApp.port, join: ["--ca", mesh.ca!.url, "--ca-fingerprint", original, "--state-dir", join(mesh.dir, "state", "web-veteran")] });
    expect(mesh.group.output(again.pid)).toContain("certificate loaded from the state directory");
    expect((await trustOf(again.adminPort)).bundleRoots).toEqual([newRoot]);
    await stopByPid(again);
  } finally {
    app.stop();
  }
}, 60_000);
