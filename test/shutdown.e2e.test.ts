// Graceful shutdown under load: SIGTERM to a sidecar or the gateway while requests are in flight —
// every in-flight request completes with 200 and the process exits 0 within the drain time.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { TestMesh, startTestApp } from "./support/mesh.ts";
import { freePort } from "../deploy/lib/ports.ts";

const mesh = new TestMesh();
// A slow app so requests are surely in flight when the signal arrives.
const app = startTestApp("slow", async () => {
  await Bun.sleep(400);
  return Response.json({ app: "slow" });
});

afterAll(async () => {
  await mesh.stop();
  app.stop();
});

async function setup() {
  const gatewayPort = await freePort();
  const inboundPort = await freePort();
  const config = mesh.writeConfig(
    {
      trustDomain: "mesh.local",
      limits: { drainTimeout: "5s" },
      services: { slow: { instances: [{ id: "s1", address: "127.0.0.1", port: inboundPort }] } },
      gateway: {
        name: "gateway",
        listeners: [{ name: "http", address: "127.0.0.1", port: gatewayPort }],
        routes: [{ name: "all", match: { path: { prefix: "/" } }, action: { destinations: [{ service: "slow" }] } }],
      },
    },
    `mesh-${gatewayPort}.yaml`,
  );
  const sidecar = await mesh.startSidecar({ config, service: "slow", appPort: app.port, inboundPort });
  const gateway = await mesh.startGateway(config);
  return { gatewayPort, sidecar, gateway };
}

beforeAll(async () => {
  await mesh.startCa();
}, 30_000);

for (const target of ["sidecar", "gateway"] as const) {
  test(`SIGTERM to the ${target} under load: zero failed in-flight requests, exit 0`, async () => {
    const m = await setup();
    // Warm the connection pool so the in-flight requests are really in flight, not connecting.
    expect((await fetch(`http://127.0.0.1:${m.gatewayPort}/warm`)).status).toBe(200);
    const before = app.seen.length;
    const inflight = Array.from({ length: 20 }, (_, i) => fetch(`http://127.0.0.1:${m.gatewayPort}/r${i}`).then(async (r) => ({ status: r.status, body: await r.text() })));
    while (app.seen.length < before + 20) await Bun.sleep(10);
    const proc = (target === "sidecar" ? m.sidecar : m.gateway).proc;
    const started = Date.now();
    proc.kill("SIGTERM");
    const results = await Promise.all(inflight);
    const code = await proc.exited;
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
  }, 30_000);
}
