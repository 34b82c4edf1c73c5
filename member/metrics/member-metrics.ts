// A member's metrics, put together: the registry with its default labels, the hub subscriber, and (once the member
// serves) the scrape-time state, in-flight, mTLS and process metrics. Not created at all with --metrics off.
import type { Observation } from "../../shared/telemetry/observe.ts";
import type { Side } from "../../shared/telemetry/metric-labels.ts";
import { createRegistry, type MemberKind } from "./registry.ts";
import { requestMetrics } from "./request-metrics.ts";
import { resilienceMetrics } from "./resilience-metrics.ts";
import { stateMetrics, type MemberState } from "./state-metrics.ts";
import { processMetrics } from "./process-metrics.ts";
import { tlsMetrics, type TlsMetrics } from "./tls-metrics.ts";
import { tcpMetrics } from "./tcp-metrics.ts";
import type { TcpTally } from "../../runtime/ports.ts";
import { ScrapeGauge } from "./series.ts";

export type InFlight = () => Partial<Record<Side, number>>;

export type MemberMetrics = {
  render(): Promise<{ contentType: string; body: string }>;
  /** The inbound listener's handshakes (its own tally, read at scrape) and refusals (reported as they happen). */
  inboundTls(accepted: () => number): TlsMetrics;
  /** The L4 (protocol: tcp) connection and byte counters; registered on first call, so members without L4 show none. */
  tcp(): TcpTally;
  /** What the member serves, read at scrape from here on. */
  attach(state: MemberState & { inFlight: InFlight }): void;
  stop(): void;
};

export function startMemberMetrics(o: { kind: MemberKind; service: string; trustDomain: string; observe: Observation }): MemberMetrics {
  const registry = createRegistry({ service: o.service, kind: o.kind });
  // A member's upstream tries all come from one side: the gateway's listeners, or the sidecar's outbound.
  const unsubscribe = o.observe.subscribe(requestMetrics(registry, { service: o.service, trustDomain: o.trustDomain, attemptSide: o.kind === "gateway" ? "gateway" : "outbound" }));
  const stopProcess = processMetrics(registry);
  let tcp: TcpTally | undefined;
  return {
    render: () => registry.render(),
    inboundTls: (accepted) => tlsMetrics(registry, "inbound", accepted),
    tcp: () => (tcp ??= tcpMetrics(registry)),
    attach(state) {
      stateMetrics(registry, state);
      resilienceMetrics(registry, state.live);
      registry.register(new ScrapeGauge("mesh_requests_in_flight", "Requests being served right now, per side.", () =>
        Object.entries(state.inFlight()).map(([side, n]) => [{ side }, n] as const)));
    },
    stop() {
      unsubscribe();
      stopProcess();
    },
  };
}
