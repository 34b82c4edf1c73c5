// The console's model from real prom-client output of our own metric names: who is up, which edges exist, the
// caller's view preferred over the callee's, versions behind, certificates and rejected documents.
import { expect, test } from "bun:test";
import { parseExposition } from "./exposition.ts";
import { figuresOf } from "./figures.ts";
import { buildView, type TargetState } from "./view.ts";

const B = ["0.001", "0.01", "0.1", "+Inf"];

/** A member's scrape: identity lines plus requests per (side, peer, class) and caller-side buckets. */
function scrape(o: { service: string; kind: string; config: number; certAt: number; out?: [string, string, number, number[]?][]; in?: [string, string, number][] }) {
  const l = `mesh_service="${o.service}",mesh_kind="${o.kind}"`;
  const lines = [
    `mesh_member_info{spiffe_id="spiffe://mesh.local/ns/default/svc/${o.service}",version="0.1.0",runtime="bun",${l}} 1`,
    `mesh_config_info{version="${o.config}",${l}} 1`,
    `mesh_cert_expiry_timestamp_seconds{${l}} ${o.certAt / 1000}`,
    `mesh_config_rejected_documents{${l}} 0`,
  ];
  const side = o.kind === "gateway" ? "gateway" : "outbound";
  for (const [dest, cls, n, buckets] of o.out ?? []) {
    lines.push(`mesh_requests_total{side="${side}",route="r",destination_service="${dest}",destination_subset="",source_service="",response_code_class="${cls}",cause="",${l}} ${n}`);
    buckets?.forEach((b, i) => lines.push(`mesh_request_duration_seconds_bucket{le="${B[i]}",side="${side}",route="r",destination_service="${dest}",response_code_class="${cls}",${l}} ${b}`));
  }
  for (const [src, cls, n] of o.in ?? []) lines.push(`mesh_requests_total{side="inbound",route="",destination_service="${o.service}",destination_subset="",source_service="${src}",response_code_class="${cls}",cause="",${l}} ${n}`);
  return figuresOf(parseExposition(lines.join("\n")));
}

const NOW = Date.parse("2026-11-27T12:00:00Z");
const HOUR = 3_600_000;

test("edges come from the caller's counters over the window; callee counters fill in only unseen callers", () => {
  const gw0 = scrape({ service: "gateway", kind: "gateway", config: 7, certAt: NOW + 20 * HOUR, out: [["echo", "2xx", 100, [0, 100, 100, 100]], ["echo", "5xx", 0, [0, 0, 0, 0]]] });
  const gw1 = scrape({ service: "gateway", kind: "gateway", config: 7, certAt: NOW + 20 * HOUR, out: [["echo", "2xx", 190, [0, 190, 190, 190]], ["echo", "5xx", 10, [0, 0, 10, 10]]] });
  const echo0 = scrape({ service: "echo", kind: "sidecar", config: 6, certAt: NOW + HOUR, in: [["gateway", "2xx", 100], ["billing", "2xx", 0]] });
  const echo1 = scrape({ service: "echo", kind: "sidecar", config: 6, certAt: NOW + HOUR, in: [["gateway", "2xx", 200], ["billing", "2xx", 30]] });
  const targets: TargetState[] = [
    { id: "gateway-8080", origin: "self", address: "in process", earliest: { t: NOW - 10_000, figures: gw0 }, latest: { t: NOW, figures: gw1 }, report: { config: 7, source: "consul-kv mesh/ @40" } },
    { id: "echo-1", origin: "consul", address: "http://10.0.0.2:9100/metrics", consul: { service: "echo", kind: "sidecar", node: "vm2", health: "passing", output: "ready config=6" }, report: { config: 6, source: "consul-kv mesh/ @38" }, earliest: { t: NOW - 10_000, figures: echo0 }, latest: { t: NOW, figures: echo1 } },
    { id: "echo-2", origin: "consul", address: "no metrics listener advertised (--metrics-address)", consul: { service: "echo", kind: "sidecar", node: "vm3", health: "critical", output: "connection refused" } },
  ];
  const v = buildView({ now: NOW, targets, self: { service: "gateway", configVersion: 7, source: "consul-kv mesh/ @40", rejected: [], rejectedDocuments: [{ source: "mesh/routes/broken", path: "match.path.regex", message: "invalid regular expression" }] } });
  expect(v.windowSeconds).toBe(10);
  expect(v.edges).toEqual([
    { from: "billing", to: "echo", protocol: "http", rps: 3, errorRatio: 0, p99Ms: undefined, reporter: "destination" },
    // 100 requests in 10 s, 10 of them 5xx; p99 = rank 99 of 100: the 9th of the 10 in (10, 100] ms.
    { from: "gateway", to: "echo", protocol: "http", rps: 10, errorRatio: 0.1, p99Ms: expect.closeTo(91, 6), reporter: "source" },
  ]);
  const echo1Row = v.members.find((m) => m.id === "echo-1")!;
  expect(echo1Row).toMatchObject({ service: "echo", health: "passing", configVersion: 6, behind: true, certHoursLeft: 1 });
  expect(v.members.find((m) => m.id === "echo-2")).toMatchObject({ service: "echo", health: "critical", detail: "connection refused", configVersion: undefined });
  expect(v.services).toContainEqual({ name: "echo", kind: "sidecar", instances: 2, healthy: 1 });
  expect(v.services).toContainEqual({ name: "billing", kind: "", instances: 0, healthy: 0 });
  expect(v.rejected).toEqual([{ source: "mesh/routes/broken", path: "match.path.regex", message: "invalid regular expression", scope: "document" }]);
});

test("a target whose scrape failed is down with the reason; one scrape only gives members, not rates", () => {
  const f = scrape({ service: "web", kind: "sidecar", config: 1, certAt: NOW + 5 * HOUR });
  const v = buildView({ now: NOW, targets: [
    { id: "http://127.0.0.1:9411/metrics", origin: "static", address: "http://127.0.0.1:9411/metrics", latest: { t: NOW, figures: f }, earliest: { t: NOW, figures: f } },
    { id: "http://127.0.0.1:9999/metrics", origin: "static", address: "http://127.0.0.1:9999/metrics", error: "Unable to connect" },
  ], self: { service: "gateway", configVersion: 1, source: "mesh.yaml", rejected: [], rejectedDocuments: [] } });
  expect(v.windowSeconds).toBeUndefined();
  expect(v.edges).toEqual([]);
  expect(v.members.map((m) => [m.name, m.service, m.health])).toEqual([["127.0.0.1:9999", "", "down"], ["127.0.0.1:9411", "web", "up"]]);
  expect(v.members[0]!.detail).toBe("metrics: Unable to connect");
  expect(v.services.map((s) => s.name)).toEqual(["web"]);
});

test("TCP services are edges too: new connections/s, the share not carried, bytes/s both ways", () => {
  const lines = (conns: number, denied: number, bytes: number) => [
    'mesh_member_info{spiffe_id="spiffe://mesh.local/ns/default/svc/app",version="0.1.0",runtime="bun",mesh_service="app",mesh_kind="sidecar"} 1',
    `mesh_tcp_connections_total{direction="outbound",service="db",result="ok",mesh_service="app",mesh_kind="sidecar"} ${conns}`,
    `mesh_tcp_connections_total{direction="outbound",service="db",result="denied",mesh_service="app",mesh_kind="sidecar"} ${denied}`,
    `mesh_tcp_bytes_total{direction="outbound",service="db",flow="received",mesh_service="app",mesh_kind="sidecar"} ${bytes}`,
    `mesh_tcp_bytes_total{direction="outbound",service="db",flow="sent",mesh_service="app",mesh_kind="sidecar"} ${bytes * 3}`,
    // The callee's side of the same connections is not a second edge.
    `mesh_tcp_connections_total{direction="inbound",service="app",result="ok",mesh_service="app",mesh_kind="sidecar"} 99`,
  ].join("\n");
  const v = buildView({ now: NOW, targets: [{ id: "app-1", origin: "consul", address: "x",
    earliest: { t: NOW - 4000, figures: figuresOf(parseExposition(lines(10, 0, 1000))) },
    latest: { t: NOW, figures: figuresOf(parseExposition(lines(28, 2, 5000))) } }],
    self: { service: "gateway", configVersion: 1, source: "f", rejected: [], rejectedDocuments: [] } });
  expect(v.edges).toEqual([{ from: "app", to: "db", protocol: "tcp", rps: 5, errorRatio: 0.1, p99Ms: undefined, bytesPerSecond: 4000, reporter: "source" }]);
});
