// `bun run bench/tracing-cost.ts`: what tracing costs one hop per request, measured alone (the pair bench varies more
// than these nanoseconds): the core's read/decide/propagate, unsampled and sampled, and for sampled hops the span
// (SDK span from the event, queue, OTLP JSON for the exporter; the network send itself is left out).
import { propagateTrace } from "../shared/telemetry/trace-hop.ts";
import { createObservation, type RequestEvent } from "../shared/telemetry/observe.ts";
import { spanRecorder } from "../member/tracing/span-recorder.ts";
import { PresetIds } from "../member/tracing/preset-ids.ts";
import { BatchQueue } from "../member/tracing/batch-queue.ts";
import { otlpTraceRequest } from "../member/tracing/otlp-json.ts";
import { AlwaysOnSampler, BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { resourceFromAttributes } from "@opentelemetry/resources";

const N = 200_000;
const ROUNDS = 7;
const CHUNK = 200; // spans per flush in the sampled case: below the queue bound, so nothing is dropped
const BASE = { host: "echo", "user-agent": "wrk", accept: "*/*", "x-request-id": "0af76519-16cd-43dd-8448-eb211c80319c" };
const SAMPLED = { ...BASE, traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" };
const UNSAMPLED = { ...BASE, traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00" };

// The recording side as a member runs it, with a send that only serializes (what the exporter does before the POST).
let bytes = 0;
const queue = new BatchQueue(async (spans) => ((bytes += JSON.stringify(otlpTraceRequest(spans)).length), true), { maxQueue: 1024, maxBatch: 256, delayMs: 60_000 });
const ids = new PresetIds();
const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ "service.name": "bench" }), idGenerator: ids, sampler: new AlwaysOnSampler(), spanProcessors: [queue] });
const observe = createObservation();
observe.subscribe(spanRecorder({ tracer: provider.getTracer("vm-mesh"), ids, service: "bench" }));

function event(headers: Headers, trace: RequestEvent["trace"]): RequestEvent {
  return {
    listener: "inbound", method: "GET", path: "/data?x=1", status: 200, cause: undefined, requestId: headers.get("x-request-id")!, startedAt: performance.now(), durationMs: 0.05,
    route: undefined, cluster: undefined, endpoint: undefined, attempts: 0, peer: "spiffe://mesh.local/ns/default/svc/client", authz: undefined, bytesIn: undefined, bytesOut: 2, trace,
  };
}

type Case = { name: string; init: Record<string, string>; rate: number; record: boolean };
const CASES: Case[] = [
  { name: "baseline: headers only, no tracing code", init: BASE, rate: -1, record: false },
  { name: "off: no context, sampling 0", init: BASE, rate: 0, record: false },
  { name: "starts a trace at 1 %, unsampled", init: BASE, rate: 0.0000001, record: false },
  { name: "continues an unsampled traceparent", init: UNSAMPLED, rate: 0.01, record: false },
  { name: "continues a sampled traceparent (propagation only)", init: SAMPLED, rate: 0.01, record: false },
  { name: "sampled: propagation + span + queue + OTLP JSON", init: SAMPLED, rate: 0.01, record: true },
];

async function nsPerRequest(c: Case): Promise<number> {
  const run = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i += CHUNK) {
      for (let j = 0; j < CHUNK; j++) {
        // A fresh head per request, as a listener makes one; the baseline row measures just this.
        const headers = new Headers(c.init);
        if (c.rate < 0) continue;
        const hop = propagateTrace(headers, c.rate);
        if (c.record) observe.request(event(headers, hop));
      }
      if (c.record) await queue.forceFlush();
    }
  };
  await run(20_000); // warm up the JIT
  // Process CPU time counts the collector's threads too: start each run with a clean heap, so one case's garbage
  // (the sampled case serializes hundreds of MB) is not billed to the next.
  Bun.gc(true);
  const cpu0 = process.cpuUsage();
  await run(N);
  const cpu = process.cpuUsage(cpu0);
  return ((cpu.user + cpu.system) * 1000) / N;
}

const results = new Map<string, number[]>();
// The sampled case last: its rounds do far more allocation than the others.
for (const group of [CASES.filter((c) => !c.record), CASES.filter((c) => c.record)]) {
  for (let round = 0; round < ROUNDS; round++) for (const c of group) (results.get(c.name) ?? results.set(c.name, []).get(c.name)!).push(await nsPerRequest(c));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const base = median(results.get(CASES[0]!.name)!);
console.log(`tracing cost per request on one hop, CPU ns (median of ${ROUNDS} x ${N}; "added" is over the baseline):`);
const out: Record<string, { ns: number; addedNs: number }> = {};
for (const c of CASES) {
  const ns = median(results.get(c.name)!);
  out[c.name] = { ns: Math.round(ns), addedNs: Math.round(ns - base) };
  console.log(`  ${c.name.padEnd(52)} ${ns.toFixed(0).padStart(6)} ns   added ${(ns - base).toFixed(0).padStart(6)} ns`);
}
const unsampled = out[CASES[3]!.name]!.addedNs;
const sampled = out[CASES[5]!.name]!.addedNs;
console.log(`  at 1 % sampling, a hop that continues a trace costs on average ${(0.99 * unsampled + 0.01 * sampled).toFixed(0)} ns (serialized ${(bytes / 1024 / 1024).toFixed(0)} MB of OTLP JSON)`);
console.log(JSON.stringify(out));
await provider.shutdown();
