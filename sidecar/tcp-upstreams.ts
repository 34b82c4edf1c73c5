// The caller's TCP listeners (--tcp-upstream SERVICE=PORT), one per upstream on 127.0.0.1: each connection gets an
// endpoint from the service's cluster in the live snapshot and is carried at L4 over mTLS to that service only.
import type { LiveSnapshot } from "../shared/build/live.ts";
import type { Snapshot } from "../shared/proxy/snapshot.ts";
import type { Cluster } from "../shared/types.ts";
import type { TcpTally, TlsMaterial } from "../runtime/ports.ts";
import type { Logger } from "../member/logger.ts";
import type { TcpUpstreamArg } from "./tcp-upstream-args.ts";
import { startTcpUpstream, type TcpUpstream } from "../runtime/bun/tcp-outbound.ts";
import { parseDuration } from "../shared/config/duration.ts";
import { DEFAULTS } from "../shared/config/defaults.ts";
import { logSampler } from "./log-sampler.ts";

export type TcpUpstreams = { readonly ports: Record<string, number>; connections(): number; stop(drainMs: number): Promise<void> };

/** The service's cluster while it is a TCP service: the one its default route made (TCP services have no other routes). */
function clusterLookup(live: LiveSnapshot, service: string): () => Cluster | undefined {
  let cached: { snap: Snapshot; cluster: Cluster | undefined } | undefined;
  return () => {
    const snap = live.current();
    if (cached?.snap === snap) return cached.cluster;
    let cluster: Cluster | undefined;
    if (snap.services.get(service)?.protocol === "tcp") for (const c of snap.clusters.values()) if (c.name === service) cluster = c;
    cached = { snap, cluster };
    return cluster;
  };
}

export function startTcpUpstreams(o: { upstreams: readonly TcpUpstreamArg[]; live: LiveSnapshot; credentials: () => TlsMaterial; log: Logger; tally: TcpTally | undefined }): TcpUpstreams {
  const sample = logSampler();
  const started: Array<{ service: string; up: TcpUpstream }> = [];
  try {
    for (const { service, port } of o.upstreams) {
      if (o.live.current().services.get(service)?.protocol !== "tcp") o.log.warn({ service }, "--tcp-upstream names a service that is not protocol tcp in the config: its connections are refused until it is");
      const up = startTcpUpstream({
        service, hostname: "127.0.0.1", port, credentials: o.credentials, cluster: clusterLookup(o.live, service),
        connectTimeoutMs: parseDuration(DEFAULTS.connectTimeout), counters: o.tally?.("outbound", service),
        onFailure: (result, detail) => sample(`${service}/${result}`, (suppressed) => o.log.warn({ service, result, detail, suppressed }, "tcp connection to upstream failed")),
      });
      started.push({ service, up });
    }
  } catch (err) {
    for (const s of started) void s.up.stop(0);
    throw err;
  }
  return {
    ports: Object.fromEntries(started.map((s) => [s.service, s.up.port])),
    connections: () => started.reduce((n, s) => n + s.up.connections(), 0),
    stop: async (drainMs) => void (await Promise.all(started.map((s) => s.up.stop(drainMs)))),
  };
}
