// The README's resilience walk-through, run for real: the demo on Consul KV with resilience.yaml, an abort fault on
// echo-v2 applied with meshctl, retries masking it, outlier detection ejecting echo-v2, and its return once the fault is gone.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ProcessGroup, BUN } from "../deploy/lib/process-group.ts";
import { freeBlock } from "../deploy/lib/ports.ts";
import { until } from "./support/until.ts";

const ROOT = resolve(import.meta.dir, "..");
const group = new ProcessGroup();
const dir = mkdtempSync(join(tmpdir(), "mesh-walkthrough-"));
let gateway = "";
let consul = "";
let base = 0;

/** The example moved onto a free block of ports, like the demo test does. */
function relocated(name: string): string {
  const path = join(dir, name);
  const text = readFileSync(join(ROOT, "deploy/examples", name), "utf8")
    .replaceAll("9101", String(base + 1))
    .replaceAll("9102", String(base + 2))
    .replaceAll("9111", String(base + 11))
    .replace("port: 8080", `port: ${base}`);
  writeFileSync(path, text);
  return path;
}

function meshctlApply(file: string): void {
  const r = Bun.spawnSync([BUN, join(ROOT, "cli/meshctl.ts"), "apply", "-f", file, "--consul", consul]);
  if (r.exitCode !== 0) throw new Error(`meshctl apply failed: ${r.stderr.toString()}`);
}

type Clusters = { clusters: Array<{ name: string; ejected: string[]; outlierDetection?: { ejectionsTotal: number } }> };
const echoCluster = async () => ((await (await fetch(`http://127.0.0.1:${base + 1300}/clusters`)).json()) as Clusters).clusters.find((c) => c.name === "echo")!;

beforeAll(async () => {
  const offsets = [0, 1, 2, 11, 1300];
  for (const o of [1, 2, 11]) offsets.push(o + 100, o + 200, o + 300);
  base = await freeBlock(offsets);
  const demo = await group.spawn("demo", [BUN, join(ROOT, "deploy/demo.ts"), "--consul", "--config", relocated("resilience.yaml"), "--log-dir", join(dir, "logs")], { readyTimeoutMs: 120_000 });
  gateway = String(demo.ready.gateway);
  consul = String(demo.ready.consul);
}, 150_000);

afterAll(async () => {
  await group.stopAll(10_000);
});

test("fault on echo-v2 → retries mask it → echo-v2 ejected → fault removed → echo-v2 back", async () => {
  let ok = 0;
  let failed = 0;
  // What each failed request got, and when (ms since the test began): a count alone said nothing the one time it was 1.
  const failures: string[] = [];
  const began = performance.now();
  let running = true;
  // Three callers, not four: the breaker lets at most maxRetries (Envoy's default 3) retries be in flight to echo, and
  // a fourth request failing on echo-v2 while three retries were still out got its 503 unretried, as Envoy's would
  // (1 run in 6 here: at the config change the tries to echo-v2 took 20-40 ms). The walk-through's claim holds for
  // callers up to maxRetries; the retries-threshold overflow counter below says it was never reached.
  const loops = Array.from({ length: 3 }, async () => {
    while (running) {
      const at = (performance.now() - began).toFixed(0);
      const res = await fetch(`${gateway}/echo/hi`).catch((e: Error) => {
        failures.push(`${at} ms: no response: ${e.message}`);
        return undefined;
      });
      if (res?.status === 200) ok++;
      else failed++;
      const body = await res?.text();
      if (res !== undefined && res.status !== 200) failures.push(`${at} ms: ${res.status} ${res.headers.get("x-mesh-error") ?? ""} ${body?.slice(0, 200)}`);
      await Bun.sleep(5);
    }
  });
  try {
    await until(async () => ok > 200, 10_000);
    expect((await echoCluster()).ejected).toEqual([]);

    const applied = performance.now();
    const marks = [`fault applied at ${(applied - began).toFixed(0)} ms`];
    meshctlApply(relocated("resilience-fault.yaml"));
    await until(async () => (await echoCluster()).ejected.includes("echo-v2"), 15_000);
    const ejectedAfterMs = performance.now() - applied;
    const faults = (await (await fetch(`http://127.0.0.1:${base + 2 + 300}/metrics`)).text()).match(/^mesh_fault_injections_total\{[^}]*fault="abort"[^}]*\} (\d+)$/m);
    expect(Number(faults?.[1])).toBeGreaterThanOrEqual(3); // consecutive5xx: 3
    const gwMetrics = async (): Promise<string> => (await fetch(`http://127.0.0.1:${base + 1300}/metrics`)).text();
    expect(await gwMetrics()).toMatch(/^mesh_outlier_ejected_endpoints\{destination_service="echo",destination_subset="",[^}]*\} 1$/m);
    // A retry is counted when its request ends: right at the ejection the retried requests may still be in flight
    // (a scrape once showed 3 failed tries, 3 requests in flight and 0 retries), so wait for them.
    await until(async () => /^mesh_upstream_retries_total\{side="gateway",destination_service="echo",[^}]*\} [1-9]/m.test(await gwMetrics()), 5_000);

    const removed = performance.now();
    marks.push(`ejected at ${(applied + ejectedAfterMs - began).toFixed(0)} ms`, `fault removed at ${(removed - began).toFixed(0)} ms`);
    meshctlApply(relocated("resilience.yaml"));
    // The ejection lasts baseEjectionTime (10 s) from when it began; the next 1 s sweep returns echo-v2.
    await until(async () => (await echoCluster()).ejected.length === 0, 20_000);
    const backAfterMs = performance.now() - removed;
    const v2Before = await v2Served();
    await until(async () => (await v2Served()) > v2Before + 10, 10_000);
    console.log(`walk-through: ${ok} ok, ${failed} failed; echo-v2 ejected ${ejectedAfterMs.toFixed(0)} ms after the fault was applied, back ${backAfterMs.toFixed(0)} ms after it was removed`);
    expect({ failed, failures, marks }).toEqual({ failed: 0, failures: [], marks });
    expect(await gwMetrics()).toMatch(/^mesh_circuit_breaker_overflows_total\{destination_service="echo",[^}]*threshold="retries"[^}]*\} 0$/m);
  } finally {
    running = false;
    await Promise.all(loops);
  }
}, 90_000);

/** 200s echo-v2's sidecar has served on its inbound, from its own metrics. */
async function v2Served(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${base + 2 + 300}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(/^mesh_requests_total\{side="inbound",[^}]*response_code_class="2xx"[^}]*\} (\d+)$/gm)) n += Number(m[1]);
  return n;
}
