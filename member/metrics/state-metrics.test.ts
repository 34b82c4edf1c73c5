// Scrape-time metrics from fake member state: config version, rejections counted once each, holds, discovery
// (file mode and Consul mode with a failure streak), certificate expiry, in-flight, mTLS refusals and process.
import { createCluster } from "../../shared/upstream/cluster.ts";
import { expect, test } from "bun:test";
import type { LiveSnapshot, LiveStatus } from "../../shared/build/live.ts";
import type { ServiceDiscoveryStatus } from "../consul/discovery-feed.ts";
import { createObservation } from "../../shared/telemetry/observe.ts";
import { startMemberMetrics } from "./member-metrics.ts";

function value(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const L = '{mesh_service="echo",mesh_kind="sidecar"}';
const lbl = (s: string) => `{${s},mesh_service="echo",mesh_kind="sidecar"}`;

function fakeLive(status: LiveStatus): LiveSnapshot {
  const ep = (id: string) => ({ id, address: "127.0.0.1", port: 1, tags: [], meta: {} });
  // Real clusters (pure objects): the resilience metrics read their stats too.
  const cluster = (name: string, subset: string | undefined, eps: ReturnType<typeof ep>[]) => {
    const c = createCluster({ name, service: "web", subset, spiffeId: "spiffe://mesh.local/ns/default/svc/web", loadBalancer: "round_robin" });
    c.setServiceEndpoints(eps);
    return c;
  };
  const clusters = new Map([
    ["web", cluster("web", undefined, [ep("w1"), ep("w2")])],
    ["web/v1", cluster("web/v1", undefined, [ep("w1")])],
  ]);
  return { current: () => ({ clusters }), status: () => status, onApply() {}, stop() {} } as unknown as LiveSnapshot;
}

const creds = { notAfter: () => new Date(2_000_000_000_000), secondsLeft: () => 3600, current: () => ({ trustBundlePem: "" }) };

function start(status: LiveStatus, discovery?: () => Record<string, ServiceDiscoveryStatus>) {
  const m = startMemberMetrics({ kind: "sidecar", service: "echo", trustDomain: "mesh.local", observe: createObservation() });
  m.attach({ live: fakeLive(status), discovery, creds, spiffeId: "spiffe://mesh.local/ns/default/svc/echo", runtime: "bun", inFlight: () => ({ inbound: 2, outbound: 0 }) });
  return m;
}

const baseStatus = (): LiveStatus => ({ version: 3, source: "mesh.yaml", appliedAt: "2026-01-01T00:00:00.000Z", rejected: [], rejectedAt: undefined, rejectedDocuments: [], held: undefined, holds: 0 });

test("config, certificates, member info, in-flight and process metrics", async () => {
  const m = start(baseStatus());
  const text = (await m.render()).body;
  m.stop();
  expect(value(text, `mesh_config_info${lbl('version="3"')}`)).toBe(1);
  expect(value(text, `mesh_config_last_apply_timestamp_seconds${L}`)).toBe(Date.parse("2026-01-01T00:00:00.000Z") / 1000);
  expect(value(text, `mesh_config_rejections_total${L}`)).toBe(0);
  expect(value(text, `mesh_config_rejected_documents${L}`)).toBe(0);
  expect(value(text, `mesh_config_held${L}`)).toBe(0);
  expect(value(text, `mesh_cert_expiry_timestamp_seconds${L}`)).toBe(2_000_000_000);
  expect(value(text, `mesh_cert_seconds_left${L}`)).toBe(3600);
  expect(text).toMatch(/^mesh_member_info\{spiffe_id="spiffe:\/\/mesh.local\/ns\/default\/svc\/echo",version="[^"]+",runtime="bun",mesh_service="echo",mesh_kind="sidecar"\} 1$/m);
  expect(value(text, `mesh_requests_in_flight${lbl('side="inbound"')}`)).toBe(2);
  // File mode: the file's instances, each endpoint once over the service's clusters.
  expect(value(text, `mesh_discovery_healthy_endpoints${lbl('destination_service="web"')}`)).toBe(2);
  expect(value(text, `process_resident_memory_bytes${L}`)).toBeGreaterThan(1e6);
  expect(value(text, `process_start_time_seconds${L}`)).toBeLessThanOrEqual(Date.now() / 1000);
  expect(text).toContain("# TYPE mesh_event_loop_delay_seconds summary");
  expect(text).toMatch(/^mesh_event_loop_delay_seconds\{quantile="0.99",mesh_service="echo",mesh_kind="sidecar"\} /m);
});

test("each rejection counts once, however often it is scraped; KV documents count on their own", async () => {
  const st = baseStatus();
  const m = start(st);
  const scrape = async (name: string) => value((await m.render()).body, `${name}${L}`);
  Object.assign(st, { rejected: [{ source: "mesh.yaml", path: "routes[0]", message: "bad" }], rejectedAt: "2026-01-01T00:01:00.000Z" });
  expect(await scrape("mesh_config_rejections_total")).toBe(1);
  expect(await scrape("mesh_config_rejections_total")).toBe(1);
  expect(await scrape("mesh_config_rejected_documents")).toBe(1);
  Object.assign(st, { rejectedAt: "2026-01-01T00:02:00.000Z" }); // another bad edit
  st.rejectedDocuments = [{ source: "mesh/routes/a", path: "match", message: "bad" }, { source: "mesh/routes/a", path: "action", message: "bad" }];
  expect(await scrape("mesh_config_rejections_total")).toBe(3);
  expect(await scrape("mesh_config_rejected_documents")).toBe(2);
  Object.assign(st, { held: { reason: "empty" }, holds: 1 });
  expect(await scrape("mesh_config_held")).toBe(1);
  expect(await scrape("mesh_config_holds_total")).toBe(1);
  m.stop();
});

test("Consul mode: passing endpoints, last index, watch errors across failure streaks", async () => {
  const web: ServiceDiscoveryStatus = { endpoints: 3, index: 42, updatedAt: undefined, consecutiveFailures: 0, lastError: undefined };
  const m = start(baseStatus(), () => ({ web }));
  const scrape = async (name: string) => value((await m.render()).body, `${name}${lbl('destination_service="web"')}`);
  expect(await scrape("mesh_discovery_healthy_endpoints")).toBe(3);
  expect(await scrape("mesh_discovery_last_index")).toBe(42);
  expect(await scrape("mesh_discovery_watch_errors_total")).toBe(0);
  web.consecutiveFailures = 2;
  expect(await scrape("mesh_discovery_watch_errors_total")).toBe(2);
  web.consecutiveFailures = 0; // recovered
  expect(await scrape("mesh_discovery_watch_errors_total")).toBe(2);
  web.consecutiveFailures = 1; // a new streak
  expect(await scrape("mesh_discovery_watch_errors_total")).toBe(3);
  m.stop();
});

test("mTLS: handshakes from the listener's tally, refusals by reason, every reason present at 0", async () => {
  const m = start(baseStatus());
  let accepted = 5;
  const tls = m.inboundTls(() => accepted);
  tls.refused("svid");
  tls.refused("svid");
  tls.refused("timeout");
  accepted = 7;
  const text = (await m.render()).body;
  m.stop();
  expect(value(text, `mesh_tls_handshakes_total${lbl('listener="inbound"')}`)).toBe(7);
  expect(value(text, `mesh_tls_refusals_total${lbl('listener="inbound",reason="svid"')}`)).toBe(2);
  expect(value(text, `mesh_tls_refusals_total${lbl('listener="inbound",reason="timeout"')}`)).toBe(1);
  expect(value(text, `mesh_tls_refusals_total${lbl('listener="inbound",reason="draining"')}`)).toBe(0);
});
