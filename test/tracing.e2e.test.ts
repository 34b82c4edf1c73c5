// Tracing end to end on the demo's shape: gateway → web (the real demo app, which passes traceparent on) → echo, every
// hop over real mTLS, sampling 100 % in the config, spans sent as OTLP/HTTP JSON to a small collector in this process.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { BUN, type Started } from "../deploy/lib/process-group.ts";
import { freePort } from "../deploy/lib/ports.ts";
import { ROOT, TestMesh, startTestApp } from "./support/mesh.ts";
import { until } from "./support/until.ts";

type KeyValue = { key: string; value: Record<string, unknown> };
type Span = { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes: KeyValue[]; status: { code: number; message?: string }; service: string };
type Body = { resourceSpans: Array<{ resource: { attributes: KeyValue[] }; scopeSpans: Array<{ spans: Array<Omit<Span, "service">> }> }> };

const SERVER = 2;
const CLIENT = 3;

/** The OTLP/HTTP receiver: takes the exporters' JSON and keeps every span with its resource's service.name. */
const received: Span[] = [];
const collector = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    const url = new URL(req.url);
    if (req.method !== "POST" || url.pathname !== "/v1/traces" || req.headers.get("content-type") !== "application/json") return new Response("no", { status: 400 });
    const body = (await req.json()) as Body;
    for (const rs of body.resourceSpans) {
      const service = String(rs.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue);
      for (const ss of rs.scopeSpans) for (const s of ss.spans) received.push({ ...s, service });
    }
    return Response.json({});
  },
});

const attrs = (s: Span): Record<string, unknown> => Object.fromEntries(s.attributes.map((a) => [a.key, Object.values(a.value)[0]]));
const inTrace = (traceId: string) => received.filter((s) => s.traceId === traceId);

const mesh = new TestMesh();
const echoApp = startTestApp("echo");
const ports = { gateway: 0, web: 0, echo: 0, webApp: 0, gatewayAdmin: 0 };
let gateway: Started;
let webSidecar: { adminPort: number; pid: number };

beforeAll(async () => {
  await mesh.startCa();
  for (const k of Object.keys(ports) as Array<keyof typeof ports>) ports[k] = await freePort();
  const config = mesh.writeConfig({
    trustDomain: "mesh.local",
    tracing: { sampling: 100 },
    services: {
      echo: { instances: [{ id: "echo-1", address: "127.0.0.1", port: ports.echo }] },
      web: { instances: [{ id: "web-1", address: "127.0.0.1", port: ports.web }] },
    },
    gateway: {
      name: "gateway",
      listeners: [{ name: "http", address: "127.0.0.1", port: ports.gateway }],
      routes: [{ name: "web", match: { path: { prefix: "/web" } }, action: { destinations: [{ service: "web" }], rewrite: { prefix: "/" } } }],
    },
  });
  const otlp = ["--otlp-endpoint", `http://127.0.0.1:${collector.port}`];
  await mesh.startSidecar({ config, service: "echo", appPort: echoApp.port, inboundPort: ports.echo, extra: otlp });
  const web = await mesh.startSidecar({ config, service: "web", appPort: ports.webApp, inboundPort: ports.web, extra: [...otlp, "--access-log", "on"] });
  webSidecar = { adminPort: web.adminPort, pid: web.pid };
  await mesh.group.spawn("web-app", [BUN, join(ROOT, "deploy/apps/web.ts")], { env: { PORT: String(ports.webApp), OUTBOUND_PORT: String(web.outboundPort), INSTANCE: "web-1" } });
  gateway = await mesh.group.spawn("gateway", [
    BUN, join(ROOT, "gateway/main.ts"), "--config", config, ...(await mesh.gatewayArgs(config)), "--admin-port", String(ports.gatewayAdmin), ...otlp,
  ]);
}, 60_000);

afterAll(async () => {
  await mesh.stop();
  echoApp.stop();
  collector.stop(true);
});

const viaGateway = (headers: Record<string, string> = {}) => fetch(`http://127.0.0.1:${ports.gateway}/web`, { headers });
const spansInfo = async (adminPort: number) => ((await (await fetch(`http://127.0.0.1:${adminPort}/info`)).json()) as { spans?: { exported: number; dropped: number; queued: number } }).spans;

describe("one request to /web is one trace across three members", () => {
  test("gateway server → web inbound server → web outbound client → echo inbound server, with parents, status and attributes", async () => {
    const res = await viaGateway();
    expect(res.status).toBe(200);
    expect(((await res.json()) as { echoStatus: number }).echoStatus).toBe(200);
    await until(async () => received.length >= 4, 10_000);
    await Bun.sleep(300); // nothing more may arrive: one request makes exactly these four spans
    expect(new Set(received.map((s) => s.traceId)).size).toBe(1);
    expect(received).toHaveLength(4);

    const find = (service: string, kind: number) => {
      const found = received.filter((s) => s.service === service && s.kind === kind);
      expect(found).toHaveLength(1);
      return found[0]!;
    };
    const gw = find("gateway", SERVER);
    const webIn = find("web", SERVER);
    const webOut = find("web", CLIENT);
    const echoIn = find("echo", SERVER);

    expect(gw.parentSpanId).toBeUndefined();
    expect(webIn.parentSpanId).toBe(gw.spanId);
    expect(webOut.parentSpanId).toBe(webIn.spanId);
    expect(echoIn.parentSpanId).toBe(webOut.spanId);

    expect(gw.name).toBe("ingress web");
    expect(webIn.name).toBe("ingress web");
    expect(webOut.name).toBe("egress echo");
    expect(echoIn.name).toBe("ingress echo");
    for (const s of [gw, webIn, webOut, echoIn]) {
      expect(s.status.code).toBe(0); // unset: nothing failed
      expect(attrs(s)).toMatchObject({ "http.request.method": "GET", "http.response.status_code": "200" });
    }
    expect(attrs(gw)).toMatchObject({ "mesh.route": "web", "mesh.cluster": "web", "url.path": "/web" });
    expect(attrs(webIn)).toMatchObject({ "peer.service": "gateway", "mesh.peer.spiffe_id": "spiffe://mesh.local/ns/default/svc/gateway", "url.path": "/" });
    expect(attrs(webOut)).toMatchObject({ "peer.service": "echo", "mesh.route": "default-echo", "server.address": "127.0.0.1", "server.port": String(ports.echo), "url.path": "/hello" });
    expect(attrs(echoIn)).toMatchObject({ "peer.service": "web", "url.path": "/hello" });

    // The app behind the last hop sees the trace too, with the echo inbound span as parent.
    expect(echoApp.seen.at(-1)!.headers.traceparent).toBe(`00-${gw.traceId}-${echoIn.spanId}-01`);
    // And the web sidecar's access log names the trace and its own spans.
    await until(async () => mesh.group.output(webSidecar.pid).includes(webOut.spanId), 3000);
    const lines = mesh.group.output(webSidecar.pid).split("\n").filter((l) => l.includes(`"traceId":"${gw.traceId}"`));
    expect(lines.map((l) => JSON.parse(l).spanId).sort()).toEqual([webIn.spanId, webOut.spanId].sort());
  });

  test("an incoming B3 header continues the caller's trace; upstream gets W3C only", async () => {
    received.length = 0;
    const traceId = "80f198ee56343ba864fe8b2a57d3eff7";
    const res = await viaGateway({ b3: `${traceId}-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90` });
    expect(res.status).toBe(200);
    await until(async () => inTrace(traceId).length >= 4, 10_000);
    const gw = inTrace(traceId).find((s) => s.service === "gateway")!;
    expect(gw.parentSpanId).toBe("e457b5a2e4d86bd1");
    const seen = echoApp.seen.at(-1)!.headers;
    expect(seen.traceparent?.slice(0, 35)).toBe(`00-${traceId}`);
    expect(seen.b3).toBeUndefined();

    const multi = "a3ce929d0e0e4736";
    await viaGateway({ "x-b3-traceid": multi, "x-b3-spanid": "00f067aa0ba902b7", "x-b3-sampled": "1" });
    await until(async () => inTrace(`0000000000000000${multi}`).length >= 4, 10_000);
  });

  test("an unsampled caller's trace is propagated to the last app, and no span is recorded for it", async () => {
    received.length = 0;
    const traceId = "11111111111111111111111111111111";
    const res = await viaGateway({ traceparent: `00-${traceId}-2222222222222222-00` });
    expect(res.status).toBe(200);
    expect(echoApp.seen.at(-1)!.headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
    await Bun.sleep(1500); // past the exporters' flush interval
    expect(inTrace(traceId)).toEqual([]);
  });

  test("garbage trace headers are ignored: the request succeeds and a fresh trace starts", async () => {
    received.length = 0;
    // (Control characters never get this far: the listener's parser refuses them with 400.)
    const res = await viaGateway({ traceparent: "00-\u00ff\u00fe-zz", tracestate: "Bad Key=1,,,", b3: "not-b3", "x-b3-traceid": "zz" });
    expect(res.status).toBe(200);
    const seen = echoApp.seen.at(-1)!.headers;
    expect(seen.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(seen.tracestate).toBeUndefined();
  });
});

describe("a collector that is down", () => {
  test("requests still succeed; the spans are dropped and counted", async () => {
    collector.stop(true);
    const before = { gateway: (await spansInfo(ports.gatewayAdmin))!, web: (await spansInfo(webSidecar.adminPort))! };
    for (let i = 0; i < 5; i++) expect((await viaGateway()).status).toBe(200);
    await until(async () => (await spansInfo(ports.gatewayAdmin))!.dropped >= before.gateway.dropped + 5, 10_000);
    await until(async () => (await spansInfo(webSidecar.adminPort))!.dropped >= before.web.dropped + 10, 10_000);
    expect(gateway.proc.exitCode).toBeNull();
  });
});
