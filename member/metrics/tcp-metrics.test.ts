// Unit tests for the L4 metrics: the counters the pipes bump come out at scrape under their direction, service,
// result and flow; nothing is registered until the sidecar asks for the tally.
import { expect, test } from "bun:test";
import { createObservation } from "../../shared/telemetry/observe.ts";
import { startMemberMetrics } from "./member-metrics.ts";

const value = (text: string, series: string): number | undefined => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};
const lbl = (s: string) => `{${s},mesh_service="db",mesh_kind="sidecar"}`;

test("connections by result, open connections and bytes per flow, read at scrape", async () => {
  const m = startMemberMetrics({ kind: "sidecar", service: "db", trustDomain: "mesh.local", observe: createObservation() });
  expect((await m.render()).body).not.toContain("mesh_tcp_");
  const tally = m.tcp();
  expect(m.tcp()).toBe(tally); // registered once
  const inbound = tally("inbound", "db");
  expect(tally("inbound", "db")).toBe(inbound);
  const outbound = tally("outbound", "cache");
  inbound.connections.ok += 2;
  inbound.connections.denied += 1;
  inbound.active = 1;
  inbound.received += 100;
  inbound.sent += 4000;
  outbound.connections["identity-mismatch"] += 1;

  const text = (await m.render()).body;
  expect(value(text, `mesh_tcp_connections_total${lbl('direction="inbound",service="db",result="ok"')}`)).toBe(2);
  expect(value(text, `mesh_tcp_connections_total${lbl('direction="inbound",service="db",result="denied"')}`)).toBe(1);
  expect(value(text, `mesh_tcp_connections_total${lbl('direction="inbound",service="db",result="connect-failure"')}`)).toBe(0);
  expect(value(text, `mesh_tcp_connections_total${lbl('direction="outbound",service="cache",result="identity-mismatch"')}`)).toBe(1);
  expect(value(text, `mesh_tcp_connections_active${lbl('direction="inbound",service="db"')}`)).toBe(1);
  expect(value(text, `mesh_tcp_connections_active${lbl('direction="outbound",service="cache"')}`)).toBe(0);
  expect(value(text, `mesh_tcp_bytes_total${lbl('direction="inbound",service="db",flow="received"')}`)).toBe(100);
  expect(value(text, `mesh_tcp_bytes_total${lbl('direction="inbound",service="db",flow="sent"')}`)).toBe(4000);
  m.stop();
});
