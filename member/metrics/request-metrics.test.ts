// The hub subscriber fed synthetic events: the exposition carries the expected series and values, with the
// member's default labels, cumulative histogram buckets, retries from the request's tries, and authz verdicts.
import { expect, test } from "bun:test";
import { createObservation, type RequestEvent } from "../../shared/telemetry/observe.ts";
import type { AttemptEvent } from "../../shared/types.ts";
import { createRegistry } from "./registry.ts";
import { requestMetrics } from "./request-metrics.ts";
import { startMemberMetrics } from "./member-metrics.ts";

const event = (over: Partial<RequestEvent> = {}): RequestEvent => ({
  listener: "outbound", method: "GET", path: "/a", status: 200, cause: undefined, requestId: "r", startedAt: 0, durationMs: 3,
  route: "echo", cluster: "echo/v1", endpoint: "echo-1", attempts: 1, peer: undefined, authz: undefined, bytesIn: undefined, bytesOut: undefined, ...over,
});
const attempt = (over: Partial<AttemptEvent> = {}): AttemptEvent => ({
  requestId: "r", cluster: "echo/v1", endpoint: { id: "echo-1", address: "127.0.0.1", port: 1, tags: [], meta: {} }, try: 1, status: 200, outcome: "success", durationMs: 2, ...over,
});

/** The value of the one line that starts with `series` (name and labels exactly as rendered). */
function value(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function setup(service = "web") {
  const registry = createRegistry({ service, kind: "sidecar" });
  const hub = createObservation();
  hub.subscribe(requestMetrics(registry, { service, trustDomain: "mesh.local", attemptSide: "outbound" }));
  return { hub, render: async () => (await registry.render()).body };
}

test("requests and durations per route, destination and class, with the member's default labels", async () => {
  const { hub, render } = await setup();
  for (let i = 0; i < 3; i++) hub.request(event({ path: `/p/${i}`, requestId: `r${i}` }));
  hub.request(event({ status: 404, route: undefined, cluster: undefined, cause: "no-route", durationMs: 0.2 }));
  const text = await render();
  const base = 'side="outbound",route="echo",destination_service="echo",destination_subset="v1",source_service="",response_code_class="2xx",cause=""';
  expect(value(text, `mesh_requests_total{${base},mesh_service="web",mesh_kind="sidecar"}`)).toBe(3);
  expect(value(text, 'mesh_requests_total{side="outbound",route="",destination_service="",destination_subset="",source_service="",response_code_class="4xx",cause="no-route",mesh_service="web",mesh_kind="sidecar"}')).toBe(1);
  const d = 'side="outbound",route="echo",destination_service="echo",response_code_class="2xx"';
  expect(value(text, `mesh_request_duration_seconds_bucket{${d},le="0.0025",mesh_service="web",mesh_kind="sidecar"}`)).toBe(0);
  expect(value(text, `mesh_request_duration_seconds_bucket{${d},le="0.005",mesh_service="web",mesh_kind="sidecar"}`)).toBe(3);
  expect(value(text, `mesh_request_duration_seconds_bucket{${d},le="+Inf",mesh_service="web",mesh_kind="sidecar"}`)).toBe(3);
  expect(value(text, `mesh_request_duration_seconds_count{${d},mesh_service="web",mesh_kind="sidecar"}`)).toBe(3);
  expect(value(text, `mesh_request_duration_seconds_sum{${d},mesh_service="web",mesh_kind="sidecar"}`)).toBeCloseTo(0.009, 9);
  expect(text).toContain("# TYPE mesh_requests_total counter");
  expect(text).toContain("# TYPE mesh_request_duration_seconds histogram");
  expect(text).not.toContain("/p/");
});

test("upstream tries by outcome, retries from the request's tries", async () => {
  const { hub, render } = await setup();
  hub.attempt(attempt({ outcome: "connect-failure", status: undefined }));
  hub.attempt(attempt());
  hub.request(event({ attempts: 2 }));
  const text = await render();
  const l = ',mesh_service="web",mesh_kind="sidecar"}';
  expect(value(text, `mesh_upstream_requests_total{side="outbound",destination_service="echo",destination_subset="v1",outcome="connect-failure"${l}`)).toBe(1);
  expect(value(text, `mesh_upstream_requests_total{side="outbound",destination_service="echo",destination_subset="v1",outcome="success"${l}`)).toBe(1);
  expect(value(text, `mesh_upstream_request_duration_seconds_count{side="outbound",destination_service="echo",destination_subset="v1"${l}`)).toBe(2);
  expect(value(text, `mesh_upstream_retries_total{side="outbound",destination_service="echo"${l}`)).toBe(1);
});

test("inbound: caller from the peer id, authorization verdicts by rule, no retry series", async () => {
  const { hub, render } = await setup("echo");
  const web = "spiffe://mesh.local/ns/default/svc/web";
  hub.request(event({ listener: "inbound", route: undefined, cluster: undefined, peer: web, status: 403, cause: "forbidden", authz: { allowed: false, rule: "no-web" } }));
  hub.request(event({ listener: "inbound", route: undefined, cluster: undefined, peer: "spiffe://mesh.local/ns/default/svc/gateway", authz: { allowed: true, rule: "default" } }));
  const text = await render();
  const l = ',mesh_service="echo",mesh_kind="sidecar"}';
  expect(value(text, `mesh_requests_total{side="inbound",route="",destination_service="echo",destination_subset="",source_service="web",response_code_class="4xx",cause="forbidden"${l}`)).toBe(1);
  expect(value(text, `mesh_authz_decisions_total{decision="deny",rule="no-web"${l}`)).toBe(1);
  expect(value(text, `mesh_authz_decisions_total{decision="allow",rule="default"${l}`)).toBe(1);
  expect(text).not.toContain('mesh_upstream_retries_total{side="inbound"');
});

test("a thousand distinct paths and request ids make one series", async () => {
  const { hub, render } = await setup();
  for (let i = 0; i < 1000; i++) hub.request(event({ path: `/${crypto.randomUUID()}`, requestId: crypto.randomUUID() }));
  const lines = (await render()).split("\n").filter((l) => l.startsWith("mesh_requests_total{"));
  expect(lines).toHaveLength(1);
  expect(lines[0]!.endsWith(" 1000")).toBe(true);
});

test("label values with quotes or newlines are escaped by the registry", async () => {
  const { hub, render } = await setup();
  hub.request(event({ route: 'a"b\nc' }));
  expect(await render()).toContain('route="a\\"b\\nc"');
});

test("with the member metrics, unsubscribing on stop leaves the hub with no subscriber (metrics cost nothing)", () => {
  const hub = createObservation();
  const m = startMemberMetrics({ kind: "gateway", service: "gateway", trustDomain: "mesh.local", observe: hub });
  expect(hub.wantsRequests && hub.wantsAttempts).toBe(true);
  m.stop();
  expect(hub.wantsRequests || hub.wantsAttempts).toBe(false);
});
