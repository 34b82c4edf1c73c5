// Metrics read when scraped, never per request: the applied config and its rejections, discovery per service,
// the certificate and trust roots, and who this member is. Counters here follow tallies the sources keep.
import type { LiveSnapshot } from "../../shared/build/live.ts";
import type { ServiceDiscoveryStatus } from "../consul/discovery-feed.ts";
import { bundleRoots } from "../../shared/pki/bundle.ts";
import { ScrapeGauge, SeriesCounter } from "./series.ts";
import type { MetricsRegistry } from "./registry.ts";
import pkg from "../../package.json" with { type: "json" };

export type MemberState = {
  live: LiveSnapshot;
  /** Consul mode: per service endpoints, index and failures; file mode: undefined (the file's instances count). */
  discovery: (() => Record<string, ServiceDiscoveryStatus>) | undefined;
  creds: { notAfter(): Date; secondsLeft(): number; current(): { trustBundlePem: string } };
  spiffeId: string;
  runtime: string;
};

const one = (labels: Record<string, string>, v: number) => [[labels, v]] as const;

export function stateMetrics(registry: MetricsRegistry, s: MemberState): void {
  configMetrics(registry, s.live);
  discoveryMetrics(registry, s);
  certificateMetrics(registry, s.creds);
  registry.register(new ScrapeGauge("mesh_member_info", "This member's identity and software version (always 1).", () => one({ spiffe_id: s.spiffeId, version: pkg.version, runtime: s.runtime }, 1)));
}

function configMetrics(registry: MetricsRegistry, live: LiveSnapshot): void {
  registry.register(new ScrapeGauge("mesh_config_info", "The applied config version (always 1).", () => one({ version: String(live.status().version) }, 1)));
  registry.register(new ScrapeGauge("mesh_config_last_apply_timestamp_seconds", "When the applied config version was applied.", () => {
    const at = live.status().appliedAt;
    return at === undefined ? [] : one({}, Date.parse(at) / 1000);
  }));
  // What is rejected right now: each KV document on its own, the file (or whole state) as one.
  registry.register(new ScrapeGauge("mesh_config_rejected_documents", "Config documents currently rejected; their last good versions keep serving.", () => {
    const st = live.status();
    return one({}, new Set(st.rejectedDocuments.map((i) => i.source)).size + (st.rejected.length > 0 ? 1 : 0));
  }));
  registry.register(new ScrapeGauge("mesh_config_held", "1 while a lost-looking KV state is held (the last good config keeps serving).", () => one({}, live.status().held === undefined ? 0 : 1)));
  const holds = registry.register(new SeriesCounter("mesh_config_holds_total", "KV config holds begun since start."));
  holds.collect = () => void (holds.child([]).value = live.status().holds);
  // Counted as seen at scrape: a rejection is a new rejectedAt, or a document whose issues changed.
  const rejections = registry.register(new SeriesCounter("mesh_config_rejections_total", "Config changes rejected (the whole state, or one KV document) since start."));
  let lastAt: string | undefined;
  let lastDocs = new Map<string, string>();
  rejections.collect = () => {
    const st = live.status();
    const c = rejections.child([]);
    if (st.rejectedAt !== undefined && st.rejectedAt !== lastAt) c.inc();
    lastAt = st.rejectedAt;
    const docs = new Map<string, string>();
    for (const i of st.rejectedDocuments) docs.set(i.source, `${docs.get(i.source) ?? ""}${i.path}\n${i.message}\n`);
    for (const [source, issues] of docs) if (lastDocs.get(source) !== issues) c.inc();
    lastDocs = docs;
  };
}

function discoveryMetrics(registry: MetricsRegistry, s: MemberState): void {
  registry.register(new ScrapeGauge("mesh_discovery_healthy_endpoints", "Endpoints a destination service has: passing in Consul, or the file's instances.", () => {
    const d = s.discovery?.();
    if (d !== undefined) return Object.entries(d).map(([svc, st]) => [{ destination_service: svc }, st.endpoints] as const);
    // File mode: every endpoint of the service, over its clusters (a subset cluster holds some of them).
    const ids = new Map<string, Set<string>>();
    for (const c of s.live.current().clusters.values()) {
      const set = ids.get(c.service) ?? new Set<string>();
      for (const e of c.endpoints()) set.add(e.id);
      ids.set(c.service, set);
    }
    return [...ids].map(([svc, set]) => [{ destination_service: svc }, set.size] as const);
  }));
  if (s.discovery === undefined) return;
  const read = s.discovery;
  registry.register(new ScrapeGauge("mesh_discovery_last_index", "The last Consul index seen by a service's health watch.", () =>
    Object.entries(read()).flatMap(([svc, st]) => (st.index === undefined ? [] : [[{ destination_service: svc }, st.index] as const]))));
  // The feed keeps failures in a row; a rise since the last scrape is new errors, a fall then rise is a new streak.
  const errors = registry.register(new SeriesCounter("mesh_discovery_watch_errors_total", "Failed Consul health watch calls per service.", ["destination_service"]));
  const seen = new Map<string, number>();
  errors.collect = () => {
    for (const [svc, st] of Object.entries(read())) {
      const before = seen.get(svc) ?? 0;
      const now = st.consecutiveFailures;
      const c = errors.child([svc]);
      if (now > before) c.inc(now - before);
      else if (now < before && now > 0) c.inc(now);
      seen.set(svc, now);
    }
  };
}

function certificateMetrics(registry: MetricsRegistry, creds: MemberState["creds"]): void {
  registry.register(new ScrapeGauge("mesh_cert_expiry_timestamp_seconds", "When this member's workload certificate expires.", () => one({}, creds.notAfter().getTime() / 1000)));
  registry.register(new ScrapeGauge("mesh_cert_seconds_left", "Seconds until this member's workload certificate expires.", () => one({}, creds.secondsLeft())));
  // Parsed once per bundle: the bundle changes only on a root rotation.
  let cached: { pem: string; expiry: number | undefined } | undefined;
  registry.register(new ScrapeGauge("mesh_trust_root_expiry_timestamp_seconds", "When the earliest root in this member's trust bundle expires.", async () => {
    const pem = creds.current().trustBundlePem;
    if (cached?.pem !== pem) {
      const roots = await bundleRoots(pem);
      cached = { pem, expiry: roots.length === 0 ? undefined : Math.min(...roots.map((r) => r.cert.notAfter.getTime())) / 1000 };
    }
    return cached.expiry === undefined ? [] : one({}, cached.expiry);
  }));
}
