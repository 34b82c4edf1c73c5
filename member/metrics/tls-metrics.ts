// mTLS handshakes and refusals on a member's inbound listener: handshakes from the listener's own tally at scrape,
// refusals counted as the listener reports them, by reason (every reason present from the start, at 0).
import type { RefusalReason } from "../../runtime/ports.ts";
import { SeriesCounter, type CounterChild } from "./series.ts";
import type { MetricsRegistry } from "./registry.ts";

const REASONS: readonly RefusalReason[] = ["handshake", "svid", "draining", "early-data", "timeout"];

export type TlsMetrics = { refused(reason: RefusalReason): void };

export function tlsMetrics(registry: MetricsRegistry, listener: string, accepted: () => number): TlsMetrics {
  const handshakes = registry.register(new SeriesCounter("mesh_tls_handshakes_total", "mTLS handshakes completed with a peer that passed the X509-SVID checks.", ["listener"]));
  handshakes.collect = () => void (handshakes.child([listener]).value = accepted());
  const refusals = registry.register(new SeriesCounter("mesh_tls_refusals_total", "Connections refused before any request: failed handshake, bad SVID, draining, data before the handshake, handshake timeout.", ["listener", "reason"]));
  const byReason = new Map<RefusalReason, CounterChild>(REASONS.map((r) => [r, refusals.child([listener, r])]));
  return { refused: (reason) => byReason.get(reason)?.inc() };
}
