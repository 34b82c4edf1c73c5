// `bun run bench/metrics-libs.ts [--from DIR]`: what each metrics library costs per request and in memory, to choose
// between prom-client and the OpenTelemetry metrics SDK. Each library runs in its own child process (clean RSS).
import { createRequire } from "node:module";
import { join, resolve } from "node:path";

import type { RequestEvent } from "../shared/telemetry/observe.ts";
import type { AttemptEvent } from "../shared/types.ts";

/** The per-request work: one counter inc and one histogram observe with the contract's labels, children cached. */
type Variant = {
  setup(): Promise<{
    /** Returns a function doing one request's work for these label values. */
    child(labels: Labels): (seconds: number) => void;
    scrape(): Promise<string>;
    /** Replaces the generic loop (key + Map + child): the mesh's own subscriber, fed events. */
    perRequest?: (i: number) => void;
  }>;
};
type Labels = { side: string; route: string; destination_service: string; destination_subset: string; source_service: string; response_code_class: string; cause: string };

const REQUEST_LABELS = ["side", "route", "destination_service", "destination_subset", "source_service", "response_code_class", "cause"] as const;
const DURATION_LABELS = ["side", "route", "destination_service", "response_code_class"] as const;
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const DEFAULT_LABELS = { mesh_service: "client", mesh_kind: "sidecar" };
const N = 1_000_000;
const HOT = 16; // distinct label sets in the per-request loop (a busy sidecar's live series)

const args = process.argv.slice(2);
const fromIdx = args.indexOf("--from");
const from = resolve(fromIdx >= 0 ? args[fromIdx + 1]! : join(import.meta.dir, ".."));

/** Loads a package from `from` (the repo by default); undefined when it is not installed there. */
async function load(name: string): Promise<any> {
  try {
    const path = createRequire(join(from, "package.json")).resolve(name);
    return await import(path);
  } catch {
    return undefined;
  }
}

const pick = <K extends string>(l: Labels, names: readonly K[]): Record<K, string> => Object.fromEntries(names.map((n) => [n, l[n as keyof Labels]])) as Record<K, string>;

const VARIANTS: Record<string, Variant> = {
  // The subscriber's own part (label key + Map lookup) with no library behind it: the floor.
  "none (key + Map only)": {
    async setup() {
      let sink = 0;
      return { child: () => (s) => void (sink += s), scrape: async () => String(sink) };
    },
  },
  "prom-client": {
    async setup() {
      const prom = await load("prom-client");
      if (prom === undefined) throw new Error("not installed");
      const registry = new prom.Registry();
      registry.setDefaultLabels(DEFAULT_LABELS);
      const requests = new prom.Counter({ name: "mesh_requests_total", help: "requests", labelNames: REQUEST_LABELS, registers: [registry] });
      const duration = new prom.Histogram({ name: "mesh_request_duration_seconds", help: "duration", labelNames: DURATION_LABELS, buckets: BUCKETS, registers: [registry] });
      return {
        child(l) {
          const c = requests.labels(pick(l, REQUEST_LABELS));
          const h = duration.labels(pick(l, DURATION_LABELS));
          return (s) => {
            c.inc();
            h.observe(s);
          };
        },
        scrape: () => registry.metrics(),
      };
    },
  },
  "@opentelemetry/sdk-metrics + exporter-prometheus": {
    async setup() {
      const sdk = await load("@opentelemetry/sdk-metrics");
      const exp = await load("@opentelemetry/exporter-prometheus");
      if (sdk === undefined || exp === undefined) throw new Error("not installed");
      const reader = new exp.PrometheusExporter({ preventServerStart: true });
      const provider = new sdk.MeterProvider({ readers: [reader] });
      const meter = provider.getMeter("mesh");
      const requests = meter.createCounter("mesh_requests", { description: "requests" });
      const duration = meter.createHistogram("mesh_request_duration", { unit: "s", description: "duration", advice: { explicitBucketBoundaries: BUCKETS } });
      const serializer = new exp.PrometheusSerializer();
      return {
        // OTel has no bound instruments: the cached part is the attribute objects, hashed again on every record.
        child(l) {
          const ca = { ...DEFAULT_LABELS, ...pick(l, REQUEST_LABELS) };
          const ha = { ...DEFAULT_LABELS, ...pick(l, DURATION_LABELS) };
          return (s) => {
            requests.add(1, ca);
            duration.record(s, ha);
          };
        },
        async scrape() {
          const { resourceMetrics } = await reader.collect();
          return serializer.serialize(resourceMetrics);
        },
      };
    },
  },
  // What member/metrics does: prom-client's Registry for the text format, children as plain objects (series.ts).
  "prom-client Registry + own children (member/metrics)": {
    async setup() {
      const { createRegistry } = await import("../member/metrics/registry.ts");
      const { SeriesCounter, SeriesHistogram } = await import("../member/metrics/series.ts");
      const registry = createRegistry({ service: DEFAULT_LABELS.mesh_service, kind: "sidecar" });
      const requests = registry.register(new SeriesCounter("mesh_requests_total", "requests", REQUEST_LABELS));
      const duration = registry.register(new SeriesHistogram("mesh_request_duration_seconds", "duration", DURATION_LABELS, BUCKETS));
      return {
        child(l) {
          const c = requests.child(REQUEST_LABELS.map((n) => l[n]));
          const h = duration.child(DURATION_LABELS.map((n) => l[n]));
          return (s) => {
            c.inc();
            h.observe(s);
          };
        },
        scrape: async () => (await registry.render()).body,
      };
    },
  },
  // The whole subscriber as the hub calls it: one request event and one attempt event per request (an outbound hop).
  "member/metrics subscriber: request + attempt event": {
    async setup() {
      const { createRegistry } = await import("../member/metrics/registry.ts");
      const { requestMetrics } = await import("../member/metrics/request-metrics.ts");
      const registry = createRegistry({ service: DEFAULT_LABELS.mesh_service, kind: "sidecar" });
      const observer = requestMetrics(registry, { service: "client", trustDomain: "mesh.local", attemptSide: "outbound" });
      const events = Array.from({ length: HOT }, (_, i) => requestEvent(i));
      const attempts = events.map((e) => attemptEvent(e));
      const request = observer.request!;
      const attempt = observer.attempt!;
      return {
        child(l) {
          const e = { ...requestEvent(0), route: l.route, cluster: `${l.destination_service}/${l.destination_subset}`, status: Number(l.response_code_class[0]) * 100 };
          return () => request(e);
        },
        perRequest(i) {
          request(events[i % HOT]!);
          attempt(attempts[i % HOT]!);
        },
        scrape: async () => (await registry.render()).body,
      };
    },
  },
};

function requestEvent(i: number): RequestEvent {
  const l = labelsFor(i);
  return {
    listener: l.side, method: "GET", path: `/items/${i}?q=1`, status: Number(l.response_code_class[0]) * 100 + 1, cause: l.cause === "" ? undefined : l.cause,
    requestId: `req-${i}`, startedAt: 0, durationMs: (i % 7) * 1.3, route: l.route, cluster: l.destination_subset === "" ? l.destination_service : `${l.destination_service}/${l.destination_subset}`,
    endpoint: "ep-1", attempts: 1, peer: l.side === "inbound" ? "spiffe://mesh.local/ns/default/svc/web" : undefined, authz: undefined, bytesIn: undefined, bytesOut: 11,
  };
}

function attemptEvent(e: RequestEvent): AttemptEvent {
  return { requestId: e.requestId, cluster: e.cluster!, endpoint: { id: "ep-1", address: "127.0.0.1", port: 1, tags: [], meta: {} }, try: 1, status: e.status, outcome: e.status >= 500 ? "http-5xx" : "success", durationMs: e.durationMs };
}

function labelsFor(i: number): Labels {
  const cls = ["2xx", "3xx", "4xx", "5xx"][i % 4]!;
  return { side: i % 2 ? "inbound" : "outbound", route: `route-${i % 50}`, destination_service: `svc-${i % 20}`, destination_subset: i % 3 ? "v1" : "", source_service: "web", response_code_class: cls, cause: cls === "5xx" ? "timeout" : "" };
}

/** One child process: RSS after import, RSS after 1000 series, the per-request cost on HOT series, scrape time. */
async function child(name: string): Promise<void> {
  const rss = () => {
    Bun.gc(true);
    return process.memoryUsage().rss / 1048576;
  };
  const rss0 = rss();
  let lib: Awaited<ReturnType<Variant["setup"]>>;
  try {
    lib = await VARIANTS[name]!.setup();
  } catch (e) {
    console.log(JSON.stringify({ name, error: e instanceof Error ? e.message : String(e) }));
    return;
  }
  const rssImport = rss();
  for (let i = 0; i < 1000; i++) lib.child(labelsFor(i + 1000))(0.003);
  const rssSeries = rss();
  // As the subscriber does it: a label key built from the event's fields, children cached in a Map under it.
  const events = Array.from({ length: HOT }, (_, i) => ({ ...labelsFor(i), seconds: (i % 7) * 0.0013 }));
  const cache = new Map<string, (s: number) => void>();
  const generic = (i: number): void => {
    const e = events[i % HOT]!;
    const key = `${e.side}\u0000${e.route}\u0000${e.destination_service}\u0000${e.destination_subset}\u0000${e.source_service}\u0000${e.response_code_class}\u0000${e.cause}`;
    let f = cache.get(key);
    if (f === undefined) cache.set(key, (f = lib.child(e)));
    f(e.seconds);
  };
  const work = lib.perRequest ?? generic;
  for (let i = 0; i < 200_000; i++) work(i); // warm up the JIT
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) work(i);
    runs.push(((performance.now() - t0) * 1e6) / N);
  }
  runs.sort((a, b) => a - b);
  const t0 = performance.now();
  const text = await lib.scrape();
  const scrapeMs = performance.now() - t0;
  console.log(JSON.stringify({ name, nsPerRequest: Math.round(runs[2]!), rss0: +rss0.toFixed(1), rssImport: +rssImport.toFixed(1), rss1000: +rssSeries.toFixed(1), scrapeMs: +scrapeMs.toFixed(1), scrapeKb: Math.round(text.length / 1024) }));
}

async function parent(): Promise<void> {
  console.log(`metrics libraries, ${N} requests x 5 (median), ${HOT} hot series; RSS in MB; packages from ${from}`);
  console.log(`${"library".padEnd(52)} ns/req  RSS base  +import  +1000 series  scrape ms (KB)`);
  for (const name of Object.keys(VARIANTS)) {
    const p = Bun.spawn([process.execPath, import.meta.path, "--child", name, "--from", from], { stdout: "pipe", stderr: "inherit" });
    const out = (await new Response(p.stdout).text()).trim().split("\n").pop() ?? "";
    await p.exited;
    const r = JSON.parse(out) as { name: string; error?: string; nsPerRequest: number; rss0: number; rssImport: number; rss1000: number; scrapeMs: number; scrapeKb: number };
    if (r.error !== undefined) {
      console.log(`${name.padEnd(52)} ${r.error}`);
      continue;
    }
    const d = (x: number) => (x >= 0 ? `+${x.toFixed(1)}` : x.toFixed(1));
    console.log(`${name.padEnd(52)} ${String(r.nsPerRequest).padStart(6)}  ${r.rss0.toFixed(1).padStart(8)}  ${d(r.rssImport - r.rss0).padStart(7)}  ${d(r.rss1000 - r.rssImport).padStart(12)}  ${r.scrapeMs.toFixed(1).padStart(9)} (${r.scrapeKb})`);
  }
}

const childIdx = args.indexOf("--child");
if (childIdx >= 0) await child(args[childIdx + 1]!);
else await parent();
