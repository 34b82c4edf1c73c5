// Live config reload under continuous load through the gateway: valid edits apply without a failed request,
// an invalid edit is rejected with its path and the last good config keeps serving.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { stringify } from "yaml";
import { TestMesh, startTestApp } from "./support/mesh.ts";
import { freePort } from "../deploy/lib/ports.ts";

const mesh = new TestMesh();
const a = startTestApp("a");
const b = startTestApp("b");
let gatewayPort = 0;
let adminPort = 0;
let configPath = "";
let portA = 0;
let portB = 0;

function config(weightA: number, weightB: number) {
  return {
    trustDomain: "mesh.local",
    services: {
      upstream: {
        instances: [
          { id: "a", address: "127.0.0.1", port: portA, tags: ["a"] },
          { id: "b", address: "127.0.0.1", port: portB, tags: ["b"] },
        ],
        subsets: { a: { tags: ["a"] }, b: { tags: ["b"] } },
      },
    },
    gateway: {
      name: "gateway",
      listeners: [{ name: "http", address: "127.0.0.1", port: gatewayPort }],
      routes: [
        {
          name: "split",
          match: { path: { prefix: "/" } },
          action: { destinations: [{ service: "upstream", subset: "a", weight: weightA }, { service: "upstream", subset: "b", weight: weightB }] },
        },
      ],
    },
  };
}

beforeAll(async () => {
  await mesh.startCa();
  [gatewayPort, portA, portB] = [await freePort(), await freePort(), await freePort()];
  configPath = mesh.writeConfig(config(100, 0));
  await mesh.startSidecar({ config: configPath, service: "upstream", appPort: a.port, inboundPort: portA });
  await mesh.startSidecar({ config: configPath, service: "upstream", appPort: b.port, inboundPort: portB });
  adminPort = (await mesh.startGateway(configPath)).adminPort;
}, 60_000);

afterAll(async () => {
  await mesh.stop();
  a.stop();
  b.stop();
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await Bun.sleep(50);
  }
  throw new Error("condition not reached in time");
}

test("reloads under load fail zero requests; an invalid config is rejected and the last good one serves", async () => {
  let stop = false;
  let ok = 0;
  const failures: string[] = [];
  const seenApps = new Set<string>();
  const worker = async () => {
    while (!stop) {
      try {
        const res = await fetch(`http://127.0.0.1:${gatewayPort}/load`);
        const body = (await res.json()) as { app?: string };
        if (res.status === 200 && body.app !== undefined) {
          ok++;
          seenApps.add(body.app);
        } else failures.push(`${res.status} ${JSON.stringify(body)}`);
      } catch (err) {
        failures.push(String(err));
      }
    }
  };
  const workers = Array.from({ length: 8 }, worker);

  const status = async () => (await (await fetch(`http://127.0.0.1:${adminPort}/config`)).json()) as { version: number; rejected: Array<{ path: string; message: string }> };
  const v0 = (await status()).version;
  for (const [wa, wb] of [[0, 100], [50, 50], [100, 0], [0, 100]] as const) {
    await Bun.sleep(300);
    writeFileSync(configPath, stringify(config(wa, wb)));
  }
  await waitFor(async () => (await status()).version >= v0 + 4);
  const beforeBad = b.seen.length;

  // An invalid edit: a bad regex. It must be rejected with its path, and traffic must keep going to b.
  const bad = config(0, 100);
  (bad.gateway.routes[0] as { match: unknown }).match = { path: { regex: "([unclosed" } };
  writeFileSync(configPath, stringify(bad));
  await waitFor(async () => (await status()).rejected.length > 0);
  const rejected = (await status()).rejected;
  expect(rejected[0]!.path).toBe("gateway.routes[0].match.path.regex");
  expect(rejected[0]!.message).toContain("invalid regular expression");
  await Bun.sleep(300);
  stop = true;
  await Promise.all(workers);

  expect(failures).toEqual([]);
  expect(ok).toBeGreaterThan(100);
  expect(seenApps).toEqual(new Set(["a", "b"]));
  expect(b.seen.length).toBeGreaterThan(beforeBad); // the last good config (all to b) kept serving
}, 60_000);
