// The config's limits as every HTTP/1.1 listener enforces them (gateway, outbound, inbound): one mapping, so the
// three listeners can't drift apart. Read at start; listener limits need a restart (README "Not yet").
import type { ResolvedLimits } from "../shared/proxy/hygiene.ts";
import type { InboundLimits } from "../runtime/ports.ts";

export function listenerLimits(l: ResolvedLimits): InboundLimits {
  return {
    maxHeaderBytes: l.maxHeaderBytes,
    headerTimeoutMs: l.headerTimeoutMs,
    idleTimeoutMs: l.idleTimeoutMs,
    maxBodyBytes: l.maxBodyBytes,
    bodyIdleTimeoutMs: l.bodyIdleTimeoutMs,
    bodyTimeoutMs: l.bodyTimeoutMs,
  };
}
