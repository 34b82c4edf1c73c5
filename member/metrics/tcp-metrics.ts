// Metrics of the L4 paths (services with protocol: tcp), per direction and service: connections by how their setup
// ended, connections open now, and bytes each way. The pipes bump plain numbers; they are read here at scrape.
import type { TcpCounters, TcpResult, TcpTally } from "../../runtime/ports.ts";
import { ScrapeGauge, SeriesCounter } from "./series.ts";
import type { MetricsRegistry } from "./registry.ts";

const RESULTS: readonly TcpResult[] = ["ok", "denied", "connect-failure", "identity-mismatch"];

type Entry = { readonly direction: string; readonly service: string; readonly counters: TcpCounters };

/** Registers the three families and returns the tally the pipes count into (one counters object per direction and service). */
export function tcpMetrics(registry: MetricsRegistry): TcpTally {
  const entries = new Map<string, Entry>();
  const tally: TcpTally = (direction, service) => {
    const key = `${direction}\u0000${service}`;
    let e = entries.get(key);
    if (e === undefined) {
      const counters: TcpCounters = { connections: { ok: 0, denied: 0, "connect-failure": 0, "identity-mismatch": 0 }, active: 0, received: 0, sent: 0 };
      entries.set(key, (e = { direction, service, counters }));
    }
    return e.counters;
  };

  const connections = registry.register(new SeriesCounter("mesh_tcp_connections_total", "L4 connections (protocol: tcp) by how their setup ended: carried (ok), refused by authorization, no upstream reached, or the upstream's identity refused.", ["direction", "service", "result"]));
  connections.collect = () => {
    for (const e of entries.values()) for (const r of RESULTS) connections.child([e.direction, e.service, r]).value = e.counters.connections[r];
  };
  const bytes = registry.register(new SeriesCounter("mesh_tcp_bytes_total", "Bytes carried on L4 connections: received from the caller's side, sent back towards it.", ["direction", "service", "flow"]));
  bytes.collect = () => {
    for (const e of entries.values()) {
      bytes.child([e.direction, e.service, "received"]).value = e.counters.received;
      bytes.child([e.direction, e.service, "sent"]).value = e.counters.sent;
    }
  };
  registry.register(new ScrapeGauge("mesh_tcp_connections_active", "L4 connections being carried right now.", () =>
    [...entries.values()].map((e) => [{ direction: e.direction, service: e.service }, e.counters.active] as const)));
  return tally;
}
