// The admin /config of a sidecar reading a real file: an invalid edit shows as rejected, and restoring the exact
// previous good content clears the rejection without re-applying (the config never changed).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { TestMesh } from "./support/mesh.ts";
import { until } from "./support/until.ts";

type Status = { version: number; rejected: Array<{ source: string; path: string; message: string }>; rejectedAt?: string; held?: unknown; holds: number };

const mesh = new TestMesh();
let path = "";
let admin = 0;

const status = async (): Promise<Status> => (await (await fetch(`http://127.0.0.1:${admin}/config`)).json()) as Status;

beforeAll(async () => {
  await mesh.startCa();
  path = mesh.writeConfig({
    trustDomain: "mesh.local",
    services: { client: {} },
    routes: [{ name: "ping", match: { path: { prefix: "/ping" } }, action: { directResponse: { status: 200, body: "pong" } } }],
  });
  admin = (await mesh.startSidecar({ config: path, service: "client", appPort: 1 })).adminPort;
}, 60_000);

afterAll(async () => {
  await mesh.stop();
}, 30_000);

test("restoring the exact good file after an invalid edit clears the rejection in /config, without a new version", async () => {
  const good = readFileSync(path, "utf8");
  const before = await status();
  expect(before.rejected).toEqual([]);
  expect(before.held).toBeUndefined();
  expect(before.holds).toBe(0);

  writeFileSync(path, `${good}bogus: 1\n`);
  await until(async () => (await status()).rejected.length > 0, 5000);
  expect((await status()).rejected[0]?.message).toContain('unknown key "bogus"');

  writeFileSync(path, good);
  const took = await until(async () => (await status()).rejected.length === 0, 5000);
  console.log(`rejection cleared ${took.toFixed(0)} ms after the good file was restored`);
  const after = await status();
  expect(after.version).toBe(before.version);
  expect(after.rejectedAt).toBeUndefined();
}, 30_000);
