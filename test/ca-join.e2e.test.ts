// Members joining a real CA process: a valid token once, then the state directory (0600) across restarts; each refused
// token and a wrong fingerprint stop the member with a fatal line saying why; renewal over mTLS with no token; the CA
// down (members keep serving and retry) and restarted from its state (same root: old and new members trust each other).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { TestMesh, ROOT, startTestApp } from "./support/mesh.ts";
import { BUN, stopByPid, type Started } from "../deploy/lib/process-group.ts";
import { freePort } from "../deploy/lib/ports.ts";
import { until } from "./support/until.ts";

const DENO = join(ROOT, "node_modules/.bin/deno");
const DENO_FLAGS = ["--unstable-no-legacy-abort", "--allow-net", "--allow-read", "--allow-write", "--allow-env", "--allow-sys=hostname"];
const WEB = "spiffe://mesh.local/ns/default/svc/web";
const mesh = new TestMesh();
const echoApp = startTestApp("echo");
const webApp = startTestApp("web");
let ca: Started;
let caPort = 0;
let echoInbound = 0;
let config = "";

type Info = { certNotAfter: string; certSecondsLeft: number; spiffeId: string };
const info = async (adminPort: number): Promise<Info> => (await (await fetch(`http://127.0.0.1:${adminPort}/info`)).json()) as Info;
const stateDir = (name: string) => join(mesh.dir, "state", name);
const pin = (): string[] => ["--ca", mesh.ca!.url, "--ca-fingerprint", mesh.ca!.fingerprint];
const sidecarCmd = (service: string, joinFlags: string[]): string[] => [BUN, join(ROOT, "sidecar/main.ts"), "--config", config, "--service", service,
  "--app-port", "1", "--inbound-port", "0", "--outbound-port", "0", "--admin-port", "0", "--access-log", "off", ...joinFlags];
const fatalLine = (out: string): string => out.split("\n").find((l) => l.includes('"level":60')) ?? `(no fatal line in: ${out.slice(-2000)})`;

/** Runs a member expected to exit (a refusal); killed by PID if it has not exited within `ms`. */
async function runToExit(cmd: string[], ms = 15_000): Promise<{ code: number | null; out: string }> {
  const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const timer = setTimeout(() => p.kill("SIGKILL"), ms);
  try {
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    return { code, out: out + err };
  } finally {
    clearTimeout(timer);
    p.kill("SIGKILL");
  }
}

beforeAll(async () => {
  caPort = await freePort();
  ca = await mesh.startCa({ port: caPort });
  echoInbound = await freePort();
  config = mesh.writeConfig({
    trustDomain: "mesh.local",
    services: { echo: { instances: [{ id: "echo-1", address: "127.0.0.1", port: echoInbound }] }, web: {} },
    gateway: { name: "gateway", listeners: [{ name: "http", address: "127.0.0.1", port: 0 }], routes: [] },
  });
}, 60_000);

afterAll(async () => {
  await mesh.stop();
  echoApp.stop();
  webApp.stop();
});

describe("joining", () => {
  test("a member joins once with a token, keeps key, leaf and bundle 0600 in a 0700 state directory, and restarts without a token", async () => {
    const t = await mesh.ca!.admin.create({ service: "web" });
    const dir = stateDir("web-restart");
    const first = await mesh.startSidecar({ config, service: "web", appPort: webApp.port, join: [...pin(), "--join-token", t.token, "--state-dir", dir] });
    expect(mesh.group.output(first.pid)).toContain("joined the mesh with a join token");
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, "identity.json")).mode & 0o777).toBe(0o600);
    const before = await info(first.adminPort);
    expect(before.spiffeId).toBe(WEB);
    expect(before.certSecondsLeft).toBeGreaterThan(86_000);
    await stopByPid(first);

    // Same state directory, no token at all: the stored leaf is still good, so the member starts on it.
    const again = await mesh.startSidecar({ config, service: "web", appPort: webApp.port, join: [...pin(), "--state-dir", dir] });
    expect(mesh.group.output(again.pid)).toContain("certificate loaded from the state directory; no join token needed");
    expect((await info(again.adminPort)).certNotAfter).toBe(before.certNotAfter);
    expect((await mesh.ca!.admin.list()).find((r) => r.id === t.id)?.usesLeft).toBe(0);
    await stopByPid(again);
  }, 60_000);

  test("a stored leaf with under 10 s left is renewed at start with itself (no token needed)", async () => {
    const t = await mesh.ca!.admin.create({ service: "web" });
    const dir = stateDir("web-near-end");
    const first = await mesh.startSidecar({ config, service: "web", appPort: webApp.port, join: [...pin(), "--join-token", t.token, "--state-dir", dir, "--cert-ttl", "12s"] });
    const before = await info(first.adminPort);
    await stopByPid(first);
    await until(async () => Date.parse(before.certNotAfter) - Date.now() < 9000, 10_000);
    const again = await mesh.startSidecar({ config, service: "web", appPort: webApp.port, join: [...pin(), "--state-dir", dir, "--cert-ttl", "12s"] });
    expect(mesh.group.output(again.pid)).toContain("stored certificate was about to expire; renewed it at start");
    expect(Date.parse((await info(again.adminPort)).certNotAfter)).toBeGreaterThan(Date.parse(before.certNotAfter));
    await stopByPid(again);
  }, 60_000);

  test("each refused token stops the member with a fatal line naming why; the CA logs the same reason", async () => {
    const admin = mesh.ca!.admin;
    const used = await admin.create({ service: "echo" });
    await stopByPid(await mesh.startSidecar({ config, service: "echo", appPort: 1, join: [...pin(), "--join-token", used.token, "--state-dir", stateDir("used-once")] }));
    const revoked = await admin.create({ service: "echo" });
    await admin.revoke(revoked.id);
    const expiring = await admin.create({ service: "echo", ttlSeconds: 1 });
    const forWeb = await admin.create({ service: "web" });
    await Bun.sleep(1100);
    const cases: Array<[string, string]> = [
      ["token-unknown", "mjt1.0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
      ["token-used-up", used.token],
      ["token-revoked", revoked.token],
      ["token-expired", expiring.token],
      ["token-wrong-service", forWeb.token],
    ];
    for (const [code, token] of cases) {
      const r = await runToExit(sidecarCmd("echo", [...pin(), "--join-token", token, "--state-dir", stateDir(`refused-${code}`)]));
      const fatal = fatalLine(r.out);
      expect([code, r.code]).toEqual([code, 1]);
      expect(fatal).toContain(`"error":"${code}"`);
      expect(fatal).toContain(`join refused by the CA (${code})`);
      expect(mesh.group.output(ca.pid)).toContain(`"msg":"join refused","spiffeId":"spiffe://mesh.local/ns/default/svc/echo","error":"${code}"`);
    }
  }, 90_000);

  test("a wrong --ca-fingerprint: the member refuses to join and its token is never sent", async () => {
    const t = await mesh.ca!.admin.create({ service: "echo" });
    const wrong = `sha256:${"0".repeat(64)}`;
    const r = await runToExit(sidecarCmd("echo", ["--ca", mesh.ca!.url, "--ca-fingerprint", wrong, "--join-token", t.token, "--state-dir", stateDir("wrong-pin")]));
    expect(r.code).toBe(1);
    expect(fatalLine(r.out)).toContain(`serves root ${mesh.ca!.fingerprint}, not the pinned ${wrong}: refusing to join`);
    expect(fatalLine(r.out)).toContain('"error":"ca-fingerprint-mismatch"');
    expect((await mesh.ca!.admin.list()).find((x) => x.id === t.id)).toMatchObject({ usesLeft: 1, state: "valid" });
  }, 30_000);

  test("no fingerprint, or no token and nothing in the state directory: the member will not start", async () => {
    const t = await mesh.ca!.admin.create({ service: "echo" });
    const noPin = await runToExit(sidecarCmd("echo", ["--ca", mesh.ca!.url, "--join-token", t.token]));
    expect(noPin.code).toBe(2);
    expect(noPin.out).toContain("a member never trusts an unpinned CA");
    const noToken = await runToExit(sidecarCmd("echo", [...pin(), "--state-dir", stateDir("empty")]));
    expect(noToken.code).toBe(1);
    expect(fatalLine(noToken.out)).toContain('"error":"no-join-token"');
    expect(fatalLine(noToken.out)).toContain("meshctl token create --service echo");
  }, 30_000);
});

describe("renewal and the CA going away", () => {
  test("renewal over mTLS with no token at about half life; /info shows the seconds left", async () => {
    const s = await mesh.startSidecar({ config, service: "web", appPort: webApp.port, extra: ["--cert-ttl", "6s"] });
    const first = await info(s.adminPort);
    expect(first.certSecondsLeft).toBeLessThanOrEqual(6);
    const took = await until(async () => (await info(s.adminPort)).certNotAfter !== first.certNotAfter, 10_000, 100);
    // At 40-50% of 6 s after it was issued (not at once: the leaf's backdated notBefore must not count as its life).
    expect(took).toBeGreaterThan(1500);
    expect(took).toBeLessThan(4500);
    // Log lines are written in batches: the line may follow the new certificate by a moment.
    await until(async () => mesh.group.output(s.pid).includes("workload certificate renewed"), 3000, 50);
    await until(async () => mesh.group.output(ca.pid).includes(`"msg":"certificate renewed","spiffeId":"${WEB}"`), 3000, 50);
    await stopByPid(s);
  }, 30_000);

  test("CA down: members keep serving and retry; CA restarted from its state keeps the root, old members renew and call new ones", async () => {
    const fingerprint = mesh.ca!.fingerprint;
    const web = await mesh.startSidecar({ config, service: "web", appPort: webApp.port, extra: ["--cert-ttl", "12s"] });
    const issued = (await info(web.adminPort)).certNotAfter;
    await stopByPid(ca);

    // Renewal (at 40-50% of 12 s) fails; the member logs it, keeps its leaf and stays ready.
    await until(async () => mesh.group.output(web.pid).includes("certificate renewal failed; keeping the current certificate and retrying"), 10_000, 100);
    expect((await fetch(`http://127.0.0.1:${web.adminPort}/ready`)).status).toBe(200);
    const during = await info(web.adminPort);
    expect(during.certNotAfter).toBe(issued);
    expect(during.certSecondsLeft).toBeGreaterThan(0);
    expect(during.certSecondsLeft).toBeLessThan(12);

    // The same state directory on the same port: the same root; the member's retry renews against it.
    ca = await mesh.startCa({ port: caPort });
    expect(ca.ready.rootFingerprint).toBe(fingerprint);
    await until(async () => (await info(web.adminPort)).certNotAfter !== issued, 10_000, 100);

    // A member that joins after the restart is called (mTLS both ways) by one that joined before it.
    const echo = await mesh.startSidecar({ config, service: "echo", appPort: echoApp.port, inboundPort: echoInbound });
    const res = await fetch(`http://127.0.0.1:${web.outboundPort}/hello`, { headers: { host: "echo" } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { caller: string }).caller).toBe(WEB);
    await stopByPid(echo);
    await stopByPid(web);
  }, 60_000);

  test("the Deno gateway joins and renews over mTLS the same way", async () => {
    const adminPort = await freePort();
    const g = await mesh.group.spawn("gateway-deno", [DENO, "run", ...DENO_FLAGS, join(ROOT, "gateway/main-deno.ts"), "--config", config,
      ...(await mesh.gatewayArgs(config)), "--cert-ttl", "5s", "--admin-port", String(adminPort), "--access-log", "off"], { readyTimeoutMs: 30_000 });
    const first = await info(adminPort);
    expect(first.spiffeId).toBe("spiffe://mesh.local/ns/default/svc/gateway");
    await until(async () => (await info(adminPort)).certNotAfter !== first.certNotAfter, 10_000, 100);
    await stopByPid(g);
  }, 60_000);
});
