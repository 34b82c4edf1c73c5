// meshctl explain and what-if against a real Consul dev agent: the live config in KV (applied with meshctl apply)
// decides the route and split; what-if compares a file with it. The agent is stopped by PID, also on failure.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { ROOT } from "./support/mesh.ts";
import { startConsul, type ConsulAgent } from "../deploy/lib/consul-agent.ts";
import { BUN } from "../deploy/lib/process-group.ts";

let consul: ConsulAgent | undefined;
const demo = join(ROOT, "deploy/examples/demo.yaml");
const fiftyFifty = join(ROOT, "deploy/examples/echo-50-50.yaml");
const prefix = "explain-e2e/";

async function meshctl(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const p = Bun.spawn([BUN, join(ROOT, "cli/meshctl.ts"), ...args, "--consul", consul!.httpAddr, "--kv-prefix", prefix], { stdout: "pipe", stderr: "pipe" });
  try {
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    return { code, out, err };
  } finally {
    if (p.exitCode === null) p.kill();
  }
}

beforeAll(async () => {
  consul = await startConsul();
  const applied = await meshctl("apply", "-f", demo);
  expect(applied.code).toBe(0);
}, 120_000);

afterAll(async () => {
  await consul?.stop();
}, 30_000);

test("explain --host echo --path /echo: echo-split, v1 80 / v2 20, the retries", async () => {
  const r = await meshctl("explain", "--host", "echo", "--path", "/echo");
  expect(r.code).toBe(0);
  expect(r.out).toContain("route: echo-split");
  expect(r.out).toContain("→ echo/v1  weight 80 (80%)");
  expect(r.out).toContain("→ echo/v2  weight 20 (20%)");
  expect(r.out).toContain("retries 3 on connect-failure,reset,503");
  // Read from Consul: the passing instances are asked too (none registered in this test).
  expect(r.out).toContain("passing in Consul: none");
  const json = JSON.parse((await meshctl("explain", "--host", "echo", "--path", "/echo", "--json")).out);
  expect(json.split.map((d: { cluster: string; weight: number }) => [d.cluster, d.weight])).toEqual([["echo/v1", 80], ["echo/v2", 20]]);
}, 30_000);

test("explain for a host without a route exits 1 and says why", async () => {
  const r = await meshctl("explain", "--host", "nope", "--path", "/x");
  expect(r.code).toBe(1);
  expect(r.out).toContain("route: NONE (404 no route)");
  expect(r.out).toContain('✘ echo-split: host "nope" is not one of echo');
}, 30_000);

test("what-if: 50/50 changes echo-split's weights (exit 1); the applied file changes nothing (exit 0)", async () => {
  const changed = await meshctl("what-if", "-f", fiftyFifty);
  expect(changed.code).toBe(1);
  expect(changed.out).toContain("~ route mesh/echo-split: weights");
  expect(changed.out).toContain("weights: echo/v1 80, echo/v2 20 → echo/v1 50, echo/v2 50");
  const same = await meshctl("what-if", "-f", demo);
  expect(same.code).toBe(0);
  expect(same.out).toContain("no changes");
}, 30_000);

test("usage 2, Consul unreachable 3", async () => {
  expect((await meshctl("explain", "--host", "echo")).code).toBe(2);
  const p = Bun.spawn([BUN, join(ROOT, "cli/meshctl.ts"), "what-if", "-f", demo, "--consul", "http://127.0.0.1:1"], { stdout: "pipe", stderr: "pipe" });
  expect(await p.exited).toBe(3);
}, 30_000);
