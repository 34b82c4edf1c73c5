// What the console needs from one member's scrape: who it is (service, kind, identity, config, certificate) and
// its request counters per edge, summed over routes and subsets, so two scrapes can be subtracted into rates.
import type { Sample } from "./exposition.ts";

/** Counters for one edge as this member saw it; `buckets` are cumulative counts per `le` (same order as `bounds`). */
export type EdgeCounters = { total: number; errors: number; buckets: number[] };

export type MemberFigures = {
  service: string;
  kind: string;
  spiffeId: string;
  version: string;
  runtime: string;
  configVersion: number | undefined;
  certNotAfter: number | undefined;
  rejectedDocuments: number;
  held: boolean;
  /** Upper bounds of the duration buckets, ascending, +Inf last. */
  bounds: number[];
  /** Caller-side edges ("gateway" and "outbound" sides) by destination service. */
  outbound: Map<string, EdgeCounters>;
  /** Callee-side edges ("inbound") by the caller's service (no durations: the histogram has no caller label). */
  inbound: Map<string, EdgeCounters>;
  /** L4 services (protocol: tcp) this member calls: connections (errors = not carried), and bytes both ways in `bytes`. */
  tcpOutbound: Map<string, EdgeCounters & { bytes: number }>;
};

const CALLER_SIDES = new Set(["gateway", "outbound"]);

function counters(map: Map<string, EdgeCounters>, key: string, width: number): EdgeCounters {
  let c = map.get(key);
  if (c === undefined) map.set(key, (c = { total: 0, errors: 0, buckets: new Array<number>(width).fill(0) }));
  return c;
}

export function figuresOf(samples: readonly Sample[]): MemberFigures {
  const f: MemberFigures = {
    service: "", kind: "", spiffeId: "", version: "", runtime: "", configVersion: undefined, certNotAfter: undefined,
    rejectedDocuments: 0, held: false, bounds: [], outbound: new Map(), inbound: new Map(), tcpOutbound: new Map(),
  };
  const bounds = new Set<number>();
  for (const s of samples) if (s.name === "mesh_request_duration_seconds_bucket") bounds.add(s.labels.le === "+Inf" ? Infinity : Number(s.labels.le));
  f.bounds = [...bounds].filter((b) => !Number.isNaN(b)).sort((a, b) => a - b);
  const slot = new Map(f.bounds.map((b, i) => [b, i]));
  for (const s of samples) {
    const l = s.labels;
    if (f.service === "" && l.mesh_service !== undefined) { f.service = l.mesh_service; f.kind = l.mesh_kind ?? ""; }
    switch (s.name) {
      case "mesh_member_info":
        f.spiffeId = l.spiffe_id ?? ""; f.version = l.version ?? ""; f.runtime = l.runtime ?? "";
        break;
      case "mesh_config_info":
        f.configVersion = Number(l.version);
        break;
      case "mesh_cert_expiry_timestamp_seconds":
        f.certNotAfter = s.value * 1000;
        break;
      case "mesh_config_rejected_documents":
        f.rejectedDocuments += s.value;
        break;
      case "mesh_config_held":
        f.held = s.value > 0;
        break;
      case "mesh_requests_total": {
        const side = l.side ?? "";
        const key = CALLER_SIDES.has(side) ? l.destination_service : side === "inbound" ? l.source_service : undefined;
        if (key === undefined || key === "") break;
        const c = counters(CALLER_SIDES.has(side) ? f.outbound : f.inbound, key, f.bounds.length);
        c.total += s.value;
        if (l.response_code_class === "5xx") c.errors += s.value;
        break;
      }
      case "mesh_tcp_connections_total":
      case "mesh_tcp_bytes_total": {
        if (l.direction !== "outbound" || l.service === undefined || l.service === "") break;
        let t = f.tcpOutbound.get(l.service);
        if (t === undefined) f.tcpOutbound.set(l.service, (t = { total: 0, errors: 0, buckets: [], bytes: 0 }));
        if (s.name === "mesh_tcp_bytes_total") t.bytes += s.value;
        else {
          t.total += s.value;
          if (l.result !== "ok") t.errors += s.value;
        }
        break;
      }
      case "mesh_request_duration_seconds_bucket": {
        const dest = l.destination_service;
        if (!CALLER_SIDES.has(l.side ?? "") || dest === undefined || dest === "") break;
        const i = slot.get(l.le === "+Inf" ? Infinity : Number(l.le));
        if (i !== undefined) counters(f.outbound, dest, f.bounds.length).buckets[i]! += s.value;
        break;
      }
    }
  }
  return f;
}
