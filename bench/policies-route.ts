// `bun run bench/policies-route.ts`: what configured-but-idle resilience policies cost per request in the core, alone:
// the hop's route against the same route with every kind set (bench/lib/mesh-config.ts), through handleDownstream
// with an upstream that answers at once. The process benches vary by 10-15 %, more than the nanoseconds at stake.
import { hopConfig, policiesHopConfig, UPSTREAM_SERVICE } from "./lib/mesh-config.ts";
import { compileSnapshot } from "../shared/build/compile.ts";
import { handleDownstream, type DownstreamInfo } from "../shared/proxy/downstream.ts";
import { createObservation } from "../shared/telemetry/observe.ts";
import type { MeshConfig } from "../shared/config/schema.ts";
import type { Snapshot } from "../shared/proxy/snapshot.ts";

const N = 300_000;
const ROUNDS = 5;

function snapshotOf(cfg: MeshConfig): Snapshot {
  // The upstream answers at once with a fresh response (the core edits response headers in place).
  return compileSnapshot(cfg, { version: 1, source: "bench", forwarder: () => async () => new Response("ok"), self: { service: "client" } });
}

async function nsPerRequest(snap: Snapshot): Promise<number> {
  const info: DownstreamInfo = { listener: "outbound", observe: createObservation(), clientIp: "127.0.0.1", proto: "http", trustForwarded: true };
  const run = async () => {
    const req = new Request("http://upstream/data?x=1", { headers: { host: UPSTREAM_SERVICE, "user-agent": "wrk", accept: "*/*" } });
    const r = await handleDownstream(req, snap, snap.meshRoutes, { ...info, target: "/data?x=1" });
    if (r.response.status !== 200) throw new Error(`status ${r.response.status}: ${await r.response.text()}`);
  };
  for (let i = 0; i < 30_000; i++) await run(); // warm up the JIT
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await run();
  return ((performance.now() - t0) * 1e6) / N;
}

const bare = snapshotOf(hopConfig(1));
const all = snapshotOf(policiesHopConfig(1));
const rows = { bare: [] as number[], policies: [] as number[] };
for (let round = 0; round < ROUNDS; round++) {
  rows.bare.push(await nsPerRequest(bare));
  rows.policies.push(await nsPerRequest(all));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const b = median(rows.bare);
const p = median(rows.policies);
console.log(`core path per request, median of ${ROUNDS} x ${N}: bare route ${b.toFixed(0)} ns, every policy idle ${p.toFixed(0)} ns, +${(p - b).toFixed(0)} ns`);
console.log(JSON.stringify({ bareNs: Math.round(b), policiesNs: Math.round(p), addedNs: Math.round(p - b) }));
