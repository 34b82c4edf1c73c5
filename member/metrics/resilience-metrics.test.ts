// Unit tests for the resilience metrics read at scrape: real cluster objects with a breaker and outlier detection,
// driven through their own API; counters never go down when a reload replaces a cluster.
import { expect, test } from "bun:test";
import type { LiveSnapshot } from "../../shared/build/live.ts";
import { createCluster, type ManagedCluster } from "../../shared/upstream/cluster.ts";
import { createObservation } from "../../shared/telemetry/observe.ts";
import { startMemberMetrics } from "./member-metrics.ts";

const lbl = (s: string) => `{${s},mesh_service="web",mesh_kind="sidecar"}`;
const value = (text: string, series: string): number | undefined => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};
const ep = (id: string) => ({ id, address: "127.0.0.1", port: 1, tags: [], meta: {} });
const resilience = {
  breaker: { maxConnections: 1, maxPendingRequests: 0, maxRequests: 10, maxRetries: 1 },
  outlier: { consecutive5xx: 2, consecutiveGatewayErrors: undefined, intervalMs: 1000, baseEjectionMs: 30_000, maxEjectionMs: 300_000, maxEjectionPercent: 50, minHealthPercent: 0 },
};

function echoCluster(): ManagedCluster {
  const c = createCluster({ name: "echo/v1", service: "echo", subset: "v1", spiffeId: "spiffe://mesh.local/ns/default/svc/echo", loadBalancer: "round_robin" }, resilience);
  c.setServiceEndpoints([ep("e1"), ep("e2")]);
  return c;
}

test("breaker load and overflows, ejections and panic, mirrors: per destination, and monotonic across a cluster replacement", async () => {
  let clusters = new Map([["echo/v1#round_robin", echoCluster()]]);
  const live = { current: () => ({ clusters }), status: () => ({ version: 1, source: "", appliedAt: undefined, rejected: [], rejectedAt: undefined, rejectedDocuments: [], held: undefined, holds: 0 }), onApply() {}, stop() {} } as unknown as LiveSnapshot;
  const m = startMemberMetrics({ kind: "sidecar", service: "web", trustDomain: "mesh.local", observe: createObservation() });
  m.attach({ live, discovery: undefined, creds: { notAfter: () => new Date(), secondsLeft: () => 1, current: () => ({ trustBundlePem: "" }) }, spiffeId: "spiffe://mesh.local/ns/default/svc/web", runtime: "bun", inFlight: () => ({}) });
  const dest = 'destination_service="echo",destination_subset="v1"';

  const c = clusters.get("echo/v1#round_robin")!;
  expect(c.breaker!.admit(new AbortController().signal)).toBeUndefined(); // one in flight: the connection limit
  expect(c.breaker!.admit(new AbortController().signal)).toBe("pending"); // no queue: refused
  c.balancer.start(ep("e2"));
  c.balancer.report(ep("e2"), "http-5xx", 503);
  c.balancer.start(ep("e2"));
  c.balancer.report(ep("e2"), "http-5xx", 503);
  c.countMirror("sent");
  let text = (await m.render()).body;
  expect(value(text, `mesh_circuit_breaker_active_requests${lbl(dest)}`)).toBe(1);
  expect(value(text, `mesh_circuit_breaker_overflows_total${lbl(`${dest},threshold="pending"`)}`)).toBe(1);
  expect(value(text, `mesh_circuit_breaker_overflows_total${lbl(`${dest},threshold="requests"`)}`)).toBe(0);
  expect(value(text, `mesh_outlier_ejected_endpoints${lbl(dest)}`)).toBe(1);
  expect(value(text, `mesh_outlier_ejections_total${lbl(dest)}`)).toBe(1);
  expect(value(text, `mesh_outlier_panic${lbl(dest)}`)).toBe(0);
  expect(value(text, `mesh_mirror_requests_total${lbl(`${dest},result="sent"`)}`)).toBe(1);
  expect(c.ejected()).toEqual(new Set(["e2"]));

  // A reload with a new balancer replaces the cluster: its tallies start at 0, the exported counters keep their totals.
  c.stop();
  clusters = new Map([["echo/v1#round_robin", echoCluster()]]);
  text = (await m.render()).body;
  expect(value(text, `mesh_circuit_breaker_overflows_total${lbl(`${dest},threshold="pending"`)}`)).toBe(1);
  expect(value(text, `mesh_outlier_ejections_total${lbl(dest)}`)).toBe(1);
  expect(value(text, `mesh_outlier_ejected_endpoints${lbl(dest)}`)).toBe(0);
  m.stop();
});
