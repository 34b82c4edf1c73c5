// End to end: the demo launcher on free ports — gateway -> mTLS -> echo v1/v2 (80/20) and web -> echo,
// with the caller identities the inbound sidecars verified. Real processes, real TLS, 127.0.0.1 only.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ProcessGroup, BUN } from "../deploy/lib/process-group.ts";
import { freeBlock } from "../deploy/lib/ports.ts";

const ROOT = resolve(import.meta.dir, "..");
const group = new ProcessGroup();
let gateway = "";

beforeAll(async () => {
  // demo.yaml uses 9101/9102/9111 + offsets and 8080; move the whole layout onto a free block.
  const offsets = [0, 1, 2, 11, 1300];
  for (const o of [1, 2, 11]) offsets.push(o + 100, o + 200, o + 300);
  const base = await freeBlock(offsets);
  const text = readFileSync(join(ROOT, "deploy/examples/demo.yaml"), "utf8")
    .replaceAll("9101", String(base + 1))
    .replaceAll("9102", String(base + 2))
    .replaceAll("9111", String(base + 11))
    .replace("port: 8080", `port: ${base}`);
  const dir = mkdtempSync(join(tmpdir(), "mesh-demo-"));
  const config = join(dir, "demo.yaml");
  writeFileSync(config, text);
  const demo = await group.spawn("demo", [BUN, join(ROOT, "deploy/demo.ts"), "--config", config, "--log-dir", join(dir, "logs")], { readyTimeoutMs: 60_000 });
  gateway = String(demo.ready.gateway);
}, 90_000);

afterAll(async () => {
  await group.stopAll(10_000);
});

test("GET /echo splits about 80/20 between v1 and v2 and echo sees the gateway's identity", async () => {
  const counts: Record<string, number> = {};
  const n = 200;
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${gateway}/echo`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { version: string; instance: string; caller: string };
    counts[body.version] = (counts[body.version] ?? 0) + 1;
    expect(body.caller).toBe("spiffe://mesh.local/ns/default/svc/gateway");
    expect(body.instance).toMatch(/^echo-v[12]$/);
  }
  // Binomial(200, 0.2): sd ~5.7; allow 4 sd either side.
  const v2 = counts.v2 ?? 0;
  expect(v2).toBeGreaterThan(40 - 23);
  expect(v2).toBeLessThan(40 + 23);
  expect((counts.v1 ?? 0) + v2).toBe(n);
}, 60_000);

test("GET /web: web calls echo through its own sidecar, and echo sees web's identity", async () => {
  const res = await fetch(`${gateway}/web`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { service: string; caller: string; echo: { caller: string; version: string } };
  expect(body.service).toBe("web");
  expect(body.caller).toBe("spiffe://mesh.local/ns/default/svc/gateway");
  expect(body.echo.caller).toBe("spiffe://mesh.local/ns/default/svc/web");
  expect(["v1", "v2"]).toContain(body.echo.version);
});

test("a request matching no route gets 404 and the Host header is never used as a destination", async () => {
  const res = await fetch(`${gateway}/nowhere`, { headers: { host: "example.com" } });
  expect(res.status).toBe(404);
  const body = (await res.json()) as { error: string; requestId: string };
  expect(body.error).toBe("no-route");
  expect(body.requestId.length).toBeGreaterThan(0);
});
