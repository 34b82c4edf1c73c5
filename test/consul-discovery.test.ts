// Health-based discovery against a REAL Consul agent: scale up/down, health flips, an agent outage and restart.
// Prints the propagation times it observes (Consul write returned → watch delivered the new endpoint set).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { watchConsulService } from "../member/consul/health-watch.ts";
import type { Endpoint } from "../shared/types.ts";
import { startConsul, type ConsulAgent } from "../deploy/lib/consul-agent.ts";

const SERVICE = "echo";
let agent: ConsulAgent;
const ac = new AbortController();
let watch: Promise<void> | undefined;
const deliveries: { at: number; ids: string[]; eps: Endpoint[] }[] = [];
const errors: { at: number; n: number; err: unknown }[] = [];
const timings: Record<string, number> = {};

async function consul(method: "PUT" | "GET", path: string, body?: unknown): Promise<void> {
  const res = await fetch(`${agent.httpAddr}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
}

async function register(id: string, port: number): Promise<void> {
  await consul("PUT", "/v1/agent/service/register", {
    Name: SERVICE, ID: id, Address: "127.0.0.1", Port: port, Tags: ["v1"], Meta: { version: "1" },
    Check: { CheckID: `ttl-${id}`, Name: `ttl ${id}`, TTL: "60s" },
  });
  await consul("PUT", `/v1/agent/check/pass/ttl-${id}`);
}

/** Lets the watch's token bucket refill (burst 3, one per 100 ms), so a timing shows one isolated change
 *  rather than the pacing of back-to-back changes (those are spaced ~100 ms apart by design). */
const settle = () => Bun.sleep(350);

const current = () => deliveries.at(-1)?.ids ?? [];

/** Waits until the watch delivers exactly `ids`; returns ms since `since`. */
async function seen(ids: string[], since: number, timeoutMs = 1000): Promise<number> {
  const want = JSON.stringify([...ids].sort());
  const end = since + timeoutMs;
  for (;;) {
    const hit = deliveries.find((d) => d.at >= since && JSON.stringify(d.ids) === want);
    if (hit !== undefined) return hit.at - since;
    if (performance.now() > end) throw new Error(`watch did not deliver ${want} within ${timeoutMs} ms; last: ${JSON.stringify(current())}`);
    await Bun.sleep(5);
  }
}

beforeAll(async () => {
  const t = performance.now();
  agent = await startConsul();
  timings["agent start (incl. provision)"] = performance.now() - t;
  watch = watchConsulService({
    consul: agent.httpAddr, service: SERVICE, signal: ac.signal,
    onEndpoints: (eps) => deliveries.push({ at: performance.now(), ids: eps.map((e) => e.id), eps }),
    onError: (err, n) => errors.push({ at: performance.now(), n, err }),
    backoffCapMs: 500, // keep the outage test short; production keeps the 10 s cap
  });
  // The first run on a fresh clone downloads Consul from Debian's registry (~8 s): hooks default to 5 s.
}, 120_000);

afterAll(async () => {
  ac.abort();
  await watch;
  await agent?.stop();
  console.log("consul propagation (ms):", Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v * 10) / 10])));
}, 30_000);

describe("watchConsulService against a real agent", () => {
  test("sees two registered, passing instances with their details", async () => {
    await settle();
    const t = performance.now();
    await register("echo-1", 9001);
    await register("echo-2", 9002);
    timings["register 2"] = await seen(["echo-1", "echo-2"], t);
    const eps = deliveries.at(-1)!.eps;
    expect(eps[0]).toEqual({ id: "echo-1", address: "127.0.0.1", port: 9001, tags: ["v1"], meta: { version: "1" } });
    expect(eps[1]!.port).toBe(9002);
    expect(errors).toEqual([]);
  });

  test("scale up and down propagate within 1 s", async () => {
    await settle();
    let t = performance.now();
    await register("echo-3", 9003);
    timings["scale up"] = await seen(["echo-1", "echo-2", "echo-3"], t);
    await settle();
    t = performance.now();
    await consul("PUT", "/v1/agent/service/deregister/echo-2");
    timings["scale down"] = await seen(["echo-1", "echo-3"], t);
  });

  test("a failing check removes the instance within 1 s; passing brings it back", async () => {
    await settle();
    let t = performance.now();
    await consul("PUT", "/v1/agent/check/fail/ttl-echo-1?note=test");
    timings["check fail"] = await seen(["echo-3"], t);
    await settle();
    t = performance.now();
    await consul("PUT", "/v1/agent/check/pass/ttl-echo-1");
    timings["check pass"] = await seen(["echo-1", "echo-3"], t);
  });

  test("repeated writes that leave the passing set unchanged deliver nothing", async () => {
    const before = deliveries.length;
    await consul("PUT", "/v1/agent/check/pass/ttl-echo-3?note=still-fine");
    await consul("PUT", "/v1/agent/check/pass/ttl-echo-1?note=still-fine");
    await Bun.sleep(300);
    expect(deliveries.length).toBe(before);
  });

  test("an agent outage reports errors and keeps the last endpoints; a restart resumes updates", async () => {
    const before = deliveries.length;
    const t = performance.now();
    await agent.stop();
    const stopped = performance.now();
    for (let i = 0; errors.length === 0; i++) {
      if (i > 200) throw new Error("no onError after the agent stopped");
      await Bun.sleep(5);
    }
    timings["outage → onError (from stop() start)"] = errors[0]!.at - t;
    await Bun.sleep(800); // several failed retries
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(errors.at(-1)!.n).toBe(errors.length); // consecutive
    expect(deliveries.length).toBe(before); // nothing cleared the endpoints
    expect(current()).toEqual(["echo-1", "echo-3"]);

    const r = performance.now();
    await agent.restart();
    timings["restart() (agent up, leader elected)"] = performance.now() - r;
    // A dev agent comes back empty: the watch must report the truth ([]), not hang on the old index.
    timings["restart() called → first delivery"] = await seen([], r, 3000);
    await settle();
    const w = performance.now();
    await register("echo-1", 9001);
    await register("echo-4", 9004);
    timings["re-register after restart"] = await seen(["echo-1", "echo-4"], w);
    expect(performance.now() - stopped).toBeLessThan(10_000);
  });
});
