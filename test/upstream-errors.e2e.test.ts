// Upstream failures through a real gateway: 502 for a dead endpoint, 503 at once for an empty subset,
// 504 for a slow app; and retries that move to a fresh endpoint hide a dead instance completely.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { TestMesh, startTestApp } from "./support/mesh.ts";
import { freePort } from "../deploy/lib/ports.ts";

const mesh = new TestMesh();
const fast = startTestApp("fast");
const slow = startTestApp("slow", async () => {
  await Bun.sleep(1500);
  return Response.json({ app: "slow" });
});
let gw = "";

beforeAll(async () => {
  await mesh.startCa();
  const [gatewayPort, fastPort, slowPort, deadPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const route = (name: string, prefix: string, destinations: unknown[], policy?: unknown) => ({
    name,
    match: { path: { prefix } },
    action: { destinations, rewrite: { prefix: "/" }, ...(policy === undefined ? {} : { policy }) },
  });
  const config = mesh.writeConfig({
    services: {
      fast: {
        instances: [
          { id: "fast-1", address: "127.0.0.1", port: fastPort, tags: ["v1"] },
          // Registered but nothing listens there: a crashed instance.
          { id: "dead-1", address: "127.0.0.1", port: deadPort, tags: ["v1", "dead"] },
        ],
        subsets: { live: { tags: ["v1"] }, dead: { tags: ["dead"] }, v9: { tags: ["v9"] } },
      },
      slow: { instances: [{ id: "slow-1", address: "127.0.0.1", port: slowPort }] },
    },
    gateway: {
      name: "gateway",
      listeners: [{ name: "http", address: "127.0.0.1", port: gatewayPort }],
      routes: [
        route("dead", "/dead/", [{ service: "fast", subset: "dead" }]),
        route("empty", "/empty/", [{ service: "fast", subset: "v9" }]),
        route("slow", "/slow/", [{ service: "slow" }], { timeout: "300ms" }),
        route("retry", "/retry/", [{ service: "fast", subset: "live" }], { retries: { attempts: 2, on: ["connect-failure", "reset"] } }),
      ],
    },
  });
  await mesh.startSidecar({ config, service: "fast", appPort: fast.port, inboundPort: fastPort });
  await mesh.startSidecar({ config, service: "slow", appPort: slow.port, inboundPort: slowPort });
  gw = `http://127.0.0.1:${gatewayPort}`;
  await mesh.startGateway(config);
}, 60_000);

afterAll(async () => {
  await mesh.stop();
  fast.stop();
  slow.stop();
});

async function errorOf(path: string) {
  const started = performance.now();
  const res = await fetch(`${gw}${path}`);
  const body = (await res.json()) as { error: string; status: number; requestId: string };
  return { status: res.status, body, ms: performance.now() - started };
}

test("a dead endpoint: 502 connect-failure with the request id", async () => {
  const r = await errorOf("/dead/x");
  expect(r.status).toBe(502);
  expect(r.body.error).toBe("connect-failure");
  expect(r.body.requestId.length).toBeGreaterThan(0);
});

test("no endpoint in the subset: 503 at once, never a hang", async () => {
  const r = await errorOf("/empty/x");
  expect(r.status).toBe(503);
  expect(r.body.error).toBe("no-healthy-endpoint");
  expect(r.ms).toBeLessThan(200);
});

test("a slow app past the route timeout: 504 after about the timeout", async () => {
  const r = await errorOf("/slow/x");
  expect(r.status).toBe(504);
  expect(r.body.error).toBe("timeout");
  expect(r.ms).toBeGreaterThan(250);
  expect(r.ms).toBeLessThan(1400);
});

test("retries on connect-failure move to a fresh endpoint: 100 requests, zero failures, half of the picks dead", async () => {
  const before = fast.seen.length;
  const statuses = await Promise.all(Array.from({ length: 100 }, (_, i) => fetch(`${gw}/retry/r${i}`).then((r) => r.status)));
  expect(statuses.filter((s) => s !== 200)).toEqual([]);
  expect(fast.seen.length - before).toBe(100);
});
