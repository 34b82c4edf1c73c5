// Tests of the span export in one process: events from the hook become SDK spans with the core's ids, sent as OTLP
// JSON to a small collector; unsampled hops cost no span; a dead collector or a full queue drops and counts.
import { afterAll, describe, expect, test } from "bun:test";
import { createObservation, type RequestEvent } from "../../shared/telemetry/observe.ts";
import type { AttemptEvent, HopTrace } from "../../shared/types.ts";
import { startTracing } from "./tracing.ts";
import { BatchQueue } from "./batch-queue.ts";
import { droppedSpans } from "./stats.ts";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";

type OtlpSpan = { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; startTimeUnixNano: string; endTimeUnixNano: string; attributes: Array<{ key: string; value: Record<string, unknown> }>; events: Array<{ name: string; attributes: Array<{ key: string; value: Record<string, unknown> }> }>; status: { code: number; message?: string }; traceState?: string };
type Body = { resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: { stringValue: string } }> }; scopeSpans: Array<{ spans: OtlpSpan[] }> }> };

const bodies: Body[] = [];
const collector = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    bodies.push((await req.json()) as Body);
    return new Response("{}", { headers: { "content-type": "application/json" } });
  },
});
afterAll(() => collector.stop(true));

const spans = () => bodies.flatMap((b) => b.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
const attrs = (s: { attributes: OtlpSpan["attributes"] }) => Object.fromEntries(s.attributes.map((a) => [a.key, Object.values(a.value)[0]]));
const silent = { warn() {}, info() {} };

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const hop = (over: Partial<HopTrace> = {}): HopTrace => ({ traceId: TRACE, spanId: "1111111111111111", parentSpanId: "2222222222222222", sampled: true, tracestate: undefined, from: "traceparent", ...over });
const request = (over: Partial<RequestEvent>): RequestEvent => ({
  listener: "outbound", method: "GET", path: "/hello?token=secret", status: 200, cause: undefined, requestId: "r-1", startedAt: performance.now() - 5, durationMs: 4,
  route: "echo-split", cluster: "echo/v1", endpoint: "echo-v1", attempts: 1, peer: undefined, authz: undefined, bytesIn: undefined, bytesOut: 12, ...over,
});
const attempt = (trace: HopTrace, over: Partial<AttemptEvent> = {}): AttemptEvent => ({
  requestId: "r-1", cluster: "echo/v1", endpoint: { id: "echo-v1", address: "127.0.0.1", port: 9101, tags: [], meta: {} }, try: 1, status: 200, outcome: "success", durationMs: 3, trace, ...over,
});

describe("span export", () => {
  test("sampled hops become spans with the core's ids, kind, name, status and attributes; unsampled ones do not", async () => {
    bodies.length = 0;
    const observe = createObservation();
    const tracing = startTracing({ endpoint: `http://127.0.0.1:${collector.port}/v1/traces`, service: "web", namespace: "default", observe, log: silent });
    const client = hop({ tracestate: "congo=t61rcWkgMzE" });
    observe.attempt(attempt(client, { try: 1, status: 503, outcome: "http-5xx" }));
    observe.attempt(attempt(client, { try: 2 }));
    observe.request(request({ trace: client, attempts: 2 }));
    observe.request(request({ listener: "inbound", route: undefined, cluster: undefined, endpoint: undefined, attempts: 0, status: 503, cause: "upstream-reset", peer: "spiffe://mesh.local/ns/default/svc/gateway", trace: hop({ spanId: "3333333333333333" }) }));
    observe.request(request({ listener: "gateway/http", route: "web", trace: hop({ spanId: "4444444444444444", parentSpanId: undefined }) }));
    observe.request(request({ trace: hop({ spanId: "5555555555555555", sampled: false }) }));
    observe.request(request({ trace: undefined }));
    await tracing.stop();

    expect(bodies[0]!.resourceSpans[0]!.resource.attributes).toEqual(expect.arrayContaining([{ key: "service.name", value: { stringValue: "web" } }]));
    const byId = new Map(spans().map((s) => [s.spanId, s]));
    expect([...byId.keys()].sort()).toEqual(["1111111111111111", "3333333333333333", "4444444444444444"]);

    const out = byId.get("1111111111111111")!;
    expect(out).toMatchObject({ traceId: TRACE, parentSpanId: "2222222222222222", name: "egress echo", kind: 3, status: { code: 0 }, traceState: "congo=t61rcWkgMzE" });
    expect(attrs(out)).toMatchObject({ "http.request.method": "GET", "url.path": "/hello", "http.response.status_code": "200", "mesh.route": "echo-split", "peer.service": "echo", "server.address": "127.0.0.1", "server.port": "9101", "mesh.attempts": "2" });
    expect(out.events.map((e) => [e.name, attrs(e)["mesh.try"], attrs(e)["mesh.outcome"]])).toEqual([["attempt", "1", "http-5xx"], ["attempt", "2", "success"]]);
    expect(BigInt(out.endTimeUnixNano) - BigInt(out.startTimeUnixNano)).toBe(4_000_000n);

    const inbound = byId.get("3333333333333333")!;
    expect(inbound).toMatchObject({ name: "ingress web", kind: 2, status: { code: 2, message: "upstream-reset" } });
    expect(attrs(inbound)).toMatchObject({ "peer.service": "gateway", "mesh.peer.spiffe_id": "spiffe://mesh.local/ns/default/svc/gateway", "mesh.error": "upstream-reset" });

    const root = byId.get("4444444444444444")!;
    expect(root).toMatchObject({ name: "ingress web", kind: 2 });
    expect(root.parentSpanId).toBeUndefined();
    expect(tracing.stats()).toMatchObject({ queued: 0 });
  });

  test("a collector that is down: nothing throws, the spans are dropped and counted", async () => {
    const before = droppedSpans();
    const observe = createObservation();
    const tracing = startTracing({ endpoint: "http://127.0.0.1:9/v1/traces", service: "web", namespace: "default", observe, log: silent });
    for (let i = 0; i < 5; i++) observe.request(request({ trace: hop({ spanId: `${i}`.padStart(16, "a") }) }));
    await tracing.stop(5000);
    expect(droppedSpans() - before).toBe(5);
  });
});

describe("batch queue", () => {
  test("a full queue drops and counts instead of growing; nothing waits for the exporter", async () => {
    const before = droppedSpans();
    let release: (ok: boolean) => void = () => {};
    let answerAtOnce = false;
    const sent: number[] = [];
    const send = (batch: readonly ReadableSpan[]) => {
      sent.push(batch.length);
      return answerAtOnce ? Promise.resolve(true) : new Promise<boolean>((r) => (release = r));
    };
    const queue = new BatchQueue(send, { maxQueue: 3, maxBatch: 2, delayMs: 1 });
    const span = {} as ReadableSpan;
    for (let i = 0; i < 5; i++) queue.onEnd(span);
    expect(droppedSpans() - before).toBe(2);
    await Bun.sleep(20); // the first batch is out, the collector is slow to answer
    expect(sent).toEqual([2]);
    expect(queue.queued()).toBe(1);
    for (let i = 0; i < 5; i++) queue.onEnd(span);
    expect(queue.queued()).toBe(3);
    expect(droppedSpans() - before).toBe(5);
    release(false); // that batch failed: its spans count as dropped, the rest waits for the next tick
    await Bun.sleep(20);
    expect(droppedSpans() - before).toBe(7);
    answerAtOnce = true;
    release(true); // the retry tick's batch
    await queue.shutdown();
    expect(queue.queued()).toBe(0);
    expect(sent).toEqual([2, 2, 1]);
  });
});
