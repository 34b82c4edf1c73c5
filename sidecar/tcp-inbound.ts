// The inbound's L4 hook for this sidecar's own service: while the live config says protocol tcp, each verified
// connection is authorized once by its caller and carried to the app unparsed; otherwise the inbound speaks HTTP.
import type { LiveSnapshot } from "../shared/build/live.ts";
import type { InboundL4, L4Target, TcpTally } from "../runtime/ports.ts";
import type { Logger } from "../member/logger.ts";
import { logSampler } from "./log-sampler.ts";

const NO_HEADERS = { get: (): null => null };

export function inboundL4(o: { live: LiveSnapshot; service: string; app: { address: string; port: number }; log: Logger; tally: TcpTally | undefined }): InboundL4 {
  const sample = logSampler();
  const allowed: L4Target = { service: o.service, allowed: true, app: o.app };
  const denied: L4Target = { service: o.service, allowed: false };
  return {
    tally: o.tally,
    // Read per connection from the live snapshot: a change of protocol or policy applies to the next connection.
    route(peer) {
      const snap = o.live.current();
      if (snap.services.get(o.service)?.protocol !== "tcp") return undefined;
      // A TCP service's rules name only callers (validate-tcp.ts refuses paths, methods and headers), so this is exact.
      const v = snap.authorization.get(o.service)?.evaluate({ peer: peer.spiffeId, method: "", path: "", headers: NO_HEADERS });
      if (v === undefined || v.allowed) return allowed;
      sample(peer.spiffeId, (suppressed) => o.log.info({ peer: peer.spiffeId, rule: v.rule ?? "default", reason: v.reason, suppressed }, "tcp connection denied"));
      return denied;
    },
  };
}
