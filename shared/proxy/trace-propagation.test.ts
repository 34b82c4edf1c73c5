// Unit tests of tracing through both entries of the core with fake forwarders: the upstream's traceparent names
// the hop's span, events carry the hop (request and every attempt), routes override the rate, the inbound continues.
import { describe, expect, test } from "bun:test";
import { compileSnapshot } from "../build/compile.ts";
import { checkMeshData } from "../config/parse.ts";
import { readPlainYaml } from "../config/yaml-text.ts";
import { handleDownstream } from "./downstream.ts";
import { createInboundHandler } from "./inbound.ts";
import { createObservation, NO_OBSERVATION, type RequestEvent } from "../telemetry/observe.ts";
import { parseTraceparent } from "../telemetry/trace-context.ts";
import type { AttemptEvent } from "../types.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";

const CONFIG = (sampling: number) => `
tracing: { sampling: ${sampling} }
services:
  echo: { mtls: disable, instances: [{ id: e1, address: 127.0.0.1, port: 1 }, { id: e2, address: 127.0.0.1, port: 2 }] }
gateway:
  listeners: [{ name: http, port: 0 }]
  routes:
    - name: always
      match: { path: { prefix: /always } }
      action: { destinations: [{ service: echo }], policy: { retries: { attempts: 1, on: [503] } } }
      tracing: { sampling: 100 }
    - { name: echo, match: { path: { prefix: /echo } }, action: { destinations: [{ service: echo }] } }
    - { name: quiet, match: { path: { prefix: /quiet } }, action: { destinations: [{ service: echo }] }, tracing: { sampling: 0 } }
`;

function setup(sampling: number, status = () => 200) {
  const sent: Request[] = [];
  const parsed = checkMeshData(readPlainYaml(CONFIG(sampling))?.data, "test.yaml");
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  const snap = compileSnapshot(parsed.config, {
    version: 1,
    source: "test.yaml",
    forwarder: () => async (_e, _c, req) => {
      sent.push(req);
      return new Response("ok", { status: status() });
    },
  });
  return { snap, sent };
}

function observed() {
  const observe = createObservation();
  const requests: RequestEvent[] = [];
  const attempts: AttemptEvent[] = [];
  observe.subscribe({ request: (e) => requests.push(e), attempt: (e) => attempts.push(e) });
  return { observe, requests, attempts };
}

const edge = { listener: "gateway/http", observe: NO_OBSERVATION, clientIp: "203.0.113.7", proto: "http", trustForwarded: false } as const;

describe("downstream (gateway, outbound)", () => {
  test("a caller's traceparent is continued: upstream's parent is the hop's span, events carry the hop", async () => {
    const { snap, sent } = setup(0);
    const { observe, requests } = observed();
    const req = new Request("http://h/echo/x", { headers: { traceparent: `00-${TRACE}-${SPAN}-01` } });
    const r = await handleDownstream(req, snap, snap.gatewayRoutes, { ...edge, observe });
    const up = parseTraceparent(sent[0]!.headers.get("traceparent")!);
    expect(r.trace).toMatchObject({ traceId: TRACE, parentSpanId: SPAN, sampled: true });
    expect(up).toEqual({ traceId: TRACE, spanId: r.trace!.spanId, sampled: true });
    expect(requests[0]!.trace).toBe(r.trace);
  });

  test("every attempt carries the hop's span, and every try goes out with the same parent", async () => {
    let n = 0;
    const { snap, sent } = setup(0, () => (++n === 1 ? 503 : 200));
    const { observe, attempts } = observed();
    const r = await handleDownstream(new Request("http://h/always"), snap, snap.gatewayRoutes, { ...edge, observe });
    expect(r.response.status).toBe(200);
    expect(attempts).toHaveLength(2);
    for (const a of attempts) expect(a.trace).toBe(r.trace);
    expect(new Set(sent.map((s) => s.headers.get("traceparent"))).size).toBe(1);
  });

  test("a route's own sampling overrides the mesh's for traces started here", async () => {
    const { snap, sent } = setup(0);
    const always = await handleDownstream(new Request("http://h/always"), snap, snap.gatewayRoutes, edge);
    expect(always.trace?.sampled).toBe(true);
    expect(always.trace?.parentSpanId).toBeUndefined();
    const off = await handleDownstream(new Request("http://h/echo"), snap, snap.gatewayRoutes, edge);
    expect(off.trace).toBeUndefined();
    expect(sent[1]!.headers.get("traceparent")).toBeNull();
  });

  test("a route's 0 in a mesh that samples starts an unsampled trace, so the members behind follow its no", async () => {
    const { snap, sent } = setup(100);
    const quiet = await handleDownstream(new Request("http://h/quiet"), snap, snap.gatewayRoutes, edge);
    expect(quiet.trace).toMatchObject({ sampled: false, parentSpanId: undefined });
    expect(sent[0]!.headers.get("traceparent")).toBe(`00-${quiet.trace!.traceId}-${quiet.trace!.spanId}-00`);
    // A caller's sampled trace is still continued (parent-based) on that route.
    const continued = await handleDownstream(new Request("http://h/quiet", { headers: { traceparent: `00-${TRACE}-${SPAN}-01` } }), snap, snap.gatewayRoutes, edge);
    expect(continued.trace).toMatchObject({ traceId: TRACE, sampled: true });
  });

  test("a refused request forwards nothing, but its event still names a trace when someone records it", async () => {
    const { snap } = setup(100);
    const { observe, requests } = observed();
    await handleDownstream(new Request("http://h/nowhere", { headers: { traceparent: `00-${TRACE}-${SPAN}-01` } }), snap, snap.gatewayRoutes, { ...edge, observe });
    expect(requests[0]).toMatchObject({ status: 404, trace: { traceId: TRACE, parentSpanId: SPAN, sampled: true } });
  });
});

describe("inbound", () => {
  const limits = () => setup(0).snap.limits;

  test("continues the caller's trace: the app's traceparent names the inbound span; the event carries it", async () => {
    const seen: Request[] = [];
    const { observe, requests } = observed();
    const handler = createInboundHandler({ observe, limits, traceSampling: () => 0, forward: async (req) => (seen.push(req), new Response("ok")) });
    const req = new Request("http://127.0.0.1/x", { headers: { traceparent: `00-${TRACE}-${SPAN}-00`, tracestate: "a=1" } });
    await handler(req, { spiffeId: "spiffe://mesh.local/ns/default/svc/web" }, "/x");
    const e = requests[0]!;
    expect(e.trace).toMatchObject({ traceId: TRACE, parentSpanId: SPAN, sampled: false });
    expect(seen[0]!.headers.get("traceparent")).toBe(`00-${TRACE}-${e.trace!.spanId}-00`);
    expect(seen[0]!.headers.get("tracestate")).toBe("a=1");
  });

  test("a caller without a context gets a trace started at the inbound's rate; rate 0 adds nothing", async () => {
    const seen: Request[] = [];
    const forward = async (req: Request) => (seen.push(req), new Response("ok"));
    await createInboundHandler({ observe: NO_OBSERVATION, limits, traceSampling: () => 1, forward })(new Request("http://127.0.0.1/x"), undefined, "/x");
    expect(parseTraceparent(seen[0]!.headers.get("traceparent")!)?.sampled).toBe(true);
    await createInboundHandler({ observe: NO_OBSERVATION, limits, traceSampling: () => 0, forward })(new Request("http://127.0.0.1/x"), undefined, "/x");
    expect(seen[1]!.headers.get("traceparent")).toBeNull();
  });
});
