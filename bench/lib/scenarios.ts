// How each bench scenario is wired: which processes it starts and where wrk sends its load.
// Every scenario ends at the same tiny upstream; only the proxies in between differ.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import type { ScenarioName } from "./args.ts";
import type { MeshConfig } from "../../shared/config/schema.ts";
import { startConsulPair } from "./consul-pair.ts";
import { authzPairConfig, canaryHopConfig, hopConfig, inboundPoliciesPairConfig, manyRoutesHopConfig, manyRoutesPath, meshConfig, policiesHopConfig, TRUST_DOMAIN, UPSTREAM_SERVICE } from "./mesh-config.ts";
import { startNginx } from "./nginx.ts";
import { writeFloorCertificates } from "../floor/certs.ts";
import { freePorts } from "./ports.ts";
import type { Managed, ProcessSet } from "./proc.ts";
import { caServeCommand, devCa, initCa, type DevCa } from "../../deploy/lib/dev-ca.ts";

export type Target = {
  /** What wrk and the probe request: scheme, host, port and path (e.g. a many-routes scenario's /svc-05000/x). */
  readonly url: string;
  readonly host?: string;
  /** The proxy processes whose CPU and memory count for this scenario, by display name. */
  readonly proxies: ReadonlyMap<string, Managed>;
};

export type ScenarioEnv = {
  readonly set: ProcessSet;
  readonly repo: string;
  readonly bun: string;
  readonly tmp: string;
  readonly pinProxy: readonly string[];
  readonly pinLoad: readonly string[];
  readonly upstreamPort: number;
  /** Starts the CA on first use; members join it with a token each (DevCa.memberArgs). */
  readonly ca: () => Promise<DevCa>;
  /** false: start sidecars and the gateway with --access-log off (to measure what the access log costs). */
  readonly accessLog: boolean;
  /**
   * false ("dark"): --metrics off and tracing sampling 0, i.e. no metrics subscriber and no trace context made.
   * Default: a member as shipped: metrics on and 1 % of traces sampled (trace context propagated; spans recorded
   * only where a collector is configured, see `otlp`).
   */
  readonly metrics?: boolean;
  /** true: spans of the sampled 1 % are also recorded and exported (to the bench upstream, which accepts any POST). */
  readonly otlp?: boolean;
  /** Extra Bun flags for one proxy process (e.g. --cpu-prof for bench/profile.ts). */
  readonly runtimeFlags?: (processName: string) => readonly string[];
  /** Environment variables for every proxy process (e.g. an allocator knob, read before any JavaScript runs). */
  readonly proxyEnv?: Readonly<Record<string, string>>;
};

/** Mesh processes enroll with the CA before they are ready; on a loaded machine that has taken tens of seconds. */
const READY_TIMEOUT_MS = 60_000;

const entry = (env: { repo: string }, rel: string): string => join(env.repo, rel);

/** A proxy process command line: pinned to the proxy CPU, with any per-process runtime flags. */
function proxyCmd(env: ScenarioEnv, name: string, rel: string, args: readonly string[]): string[] {
  // BENCH_BUN_FLAGS (e.g. "--smol") tries runtime flags on every mesh process without editing the bench.
  const extra = (process.env.BENCH_BUN_FLAGS ?? "").split(" ").filter((f) => f !== "");
  // `env K=V` execs the rest, like taskset, so the PID the bench measures is still the proxy's.
  const vars = Object.entries(env.proxyEnv ?? {}).map(([k, v]) => `${k}=${v}`);
  return [...(vars.length > 0 ? ["env", ...vars] : []), ...env.pinProxy, env.bun, ...extra, ...(env.runtimeFlags?.(name) ?? []), entry(env, rel), ...args];
}

function writeConfig(env: ScenarioEnv, name: string, cfg: unknown): string {
  const path = join(env.tmp, `${name}.yaml`);
  writeFileSync(path, stringify(cfg));
  return path;
}

/** The access log, metrics and span export of a mesh process (as shipped unless a scenario says otherwise). */
const observeArgs = (env: ScenarioEnv): string[] => [
  ...(env.accessLog ? [] : ["--access-log", "off"]),
  ...(env.metrics === false ? ["--metrics", "off"] : []),
  ...(env.otlp === true ? ["--otlp-endpoint", `http://127.0.0.1:${env.upstreamPort}/v1/traces`] : []),
];

/** The config of a "dark" scenario: no trace context is made (sampling 0). */
const dark = <T extends object>(cfg: T): T & { tracing: { sampling: number } } => ({ ...cfg, tracing: { sampling: 0 } });

type SidecarSpec = { name: string; config: string; service: string; appPort: number; inbound: number; outbound: number; admin: number; extra?: readonly string[] };

async function startSidecar(env: ScenarioEnv, s: SidecarSpec): Promise<Managed> {
  const ca = await env.ca();
  const m = env.set.spawn(s.name, proxyCmd(env, s.name, "sidecar/main.ts", [
    "--config", s.config, "--service", s.service,
    "--app-port", String(s.appPort), "--inbound-port", String(s.inbound),
    "--outbound-port", String(s.outbound), "--admin-port", String(s.admin), ...(await ca.memberArgs(s.service, join(env.tmp, "state", s.name))), ...observeArgs(env),
    ...(s.extra ?? []),
  ]));
  await env.set.waitReady(m, { adminPort: s.admin, timeoutMs: READY_TIMEOUT_MS });
  return m;
}

async function manyRoutesHop(env: ScenarioEnv, name: ScenarioName, count: number): Promise<Target> {
  const [inbound, outbound, admin] = (await freePorts(3)) as [number, number, number];
  const config = writeConfig(env, name, manyRoutesHopConfig(env.upstreamPort, count));
  const m = await startSidecar(env, { name: `${name.replace(/^sidecar-/, "")}-sidecar`, config, service: "client", appPort: env.upstreamPort, inbound, outbound, admin });
  return { url: `http://127.0.0.1:${outbound}${manyRoutesPath(count)}`, host: UPSTREAM_SERVICE, proxies: new Map([["sidecar", m]]) };
}

/**
 * The pair scenarios: sidecar B (the upstream's service) and sidecar A (service "client"), wrk at A's outbound. They
 * differ only in the config (`configOf` B's inbound port) and in what both sidecars run with (`run`, `extra`).
 */
async function pair(env: ScenarioEnv, name: ScenarioName, prefix: string, configOf: (bInbound: number) => MeshConfig, o: { run?: ScenarioEnv; extra?: string[] } = {}): Promise<Target> {
  const [aIn, aOut, aAdmin, bIn, bOut, bAdmin] = (await freePorts(6)) as [number, number, number, number, number, number];
  const config = writeConfig(env, name, configOf(bIn));
  const run = o.run ?? env;
  const extra = o.extra === undefined ? {} : { extra: o.extra };
  const b = await startSidecar(run, { name: `${prefix}-sidecar-b`, config, service: UPSTREAM_SERVICE, appPort: env.upstreamPort, inbound: bIn, outbound: bOut, admin: bAdmin, ...extra });
  const a = await startSidecar(run, { name: `${prefix}-sidecar-a`, config, service: "client", appPort: env.upstreamPort, inbound: aIn, outbound: aOut, admin: aAdmin, ...extra });
  return { url: `http://127.0.0.1:${aOut}/`, host: UPSTREAM_SERVICE, proxies: new Map([["sidecar-a", a], ["sidecar-b", b]]) };
}

/** A floor pair from bench/floor/ (`<file>inbound.ts`, `<file>outbound.ts`): SVIDs from our CA code, the inbound first. */
async function startFloorPair(env: ScenarioEnv, name: string, file: string): Promise<Target> {
  const [inbound, outbound] = (await freePorts(2)) as [number, number];
  const f = await writeFloorCertificates(env.tmp, TRUST_DOMAIN);
  const tls = (who: "inbound" | "outbound"): string[] => ["--cert", f[who].cert, "--key", f[who].key, "--ca", f.ca];
  const b = env.set.spawn(`${name}-inbound`, proxyCmd(env, `${name}-inbound`, `bench/floor/${file}inbound.ts`, ["--port", String(inbound), "--app", `127.0.0.1:${env.upstreamPort}`, ...tls("inbound")]));
  const a = env.set.spawn(`${name}-outbound`, proxyCmd(env, `${name}-outbound`, `bench/floor/${file}outbound.ts`, ["--port", String(outbound), "--upstream", `127.0.0.1:${inbound}`, "--expect", f.inbound.id, ...tls("outbound")]));
  await env.set.waitReady(b);
  await env.set.waitReady(a);
  return { url: `http://127.0.0.1:${outbound}/`, host: UPSTREAM_SERVICE, proxies: new Map([[`${name}-outbound`, a], [`${name}-inbound`, b]]) };
}

export const SETUPS: Record<ScenarioName, (env: ScenarioEnv) => Promise<Target>> = {
  async direct(env) {
    return { url: `http://127.0.0.1:${env.upstreamPort}/`, proxies: new Map() };
  },

  async "bun-bare"(env) {
    const [port] = await freePorts(1);
    const m = env.set.spawn("bun-bare", proxyCmd(env, "bun-bare", "bench/bun-bare.ts", ["--port", String(port), "--upstream", `127.0.0.1:${env.upstreamPort}`]));
    await env.set.waitReady(m);
    return { url: `http://127.0.0.1:${port}/`, host: UPSTREAM_SERVICE, proxies: new Map([["bun-bare", m]]) };
  },

  // Peers, measured in the same rounds: nginx (a C reverse proxy) and Consul's built-in Connect proxy pair.
  // Each setup throws ScenarioSkipped when its binary can't be found or fetched.
  nginx: startNginx,
  "consul-pair": startConsulPair,

  // Bun's floor for an L7 mTLS pair: the least per-request work an HTTP-aware pair can do (find the head's end and
  // Content-Length, insert one field per side), none of the mesh's (routing, hygiene, telemetry, timeouts).
  "bun-l7-pair": (env) => startFloorPair(env, "floor", ""),

  // Bun's floor for an L4 mTLS pair (what tcp-pair does): a connection per connection, the SPIFFE id checked once at
  // the handshake, bytes passed untouched; none of the mesh's (config, balancing, counters, drain, half-close).
  "bun-l4-pair": (env) => startFloorPair(env, "floor-l4", "l4-"),

  async "sidecar-hop"(env) {
    const [inbound, outbound, admin] = (await freePorts(3)) as [number, number, number];
    const config = writeConfig(env, "sidecar-hop", hopConfig(env.upstreamPort));
    const m = await startSidecar(env, { name: "hop-sidecar", config, service: "client", appPort: env.upstreamPort, inbound, outbound, admin });
    return { url: `http://127.0.0.1:${outbound}/`, host: UPSTREAM_SERVICE, proxies: new Map([["sidecar", m]]) };
  },

  // The same hop with the access log off: the observation hook with no subscriber, i.e. what the hook itself costs.
  async "sidecar-hop-nolog"(env) {
    const [inbound, outbound, admin] = (await freePorts(3)) as [number, number, number];
    const config = writeConfig(env, "sidecar-hop-nolog", hopConfig(env.upstreamPort));
    const m = await startSidecar({ ...env, accessLog: false }, { name: "hop-nolog-sidecar", config, service: "client", appPort: env.upstreamPort, inbound, outbound, admin });
    return { url: `http://127.0.0.1:${outbound}/`, host: UPSTREAM_SERVICE, proxies: new Map([["sidecar", m]]) };
  },

  // The hop with a collector: the sampled 1 % of traces recorded as spans and exported over OTLP/HTTP.
  async "sidecar-hop-otlp"(env) {
    const [inbound, outbound, admin] = (await freePorts(3)) as [number, number, number];
    const config = writeConfig(env, "sidecar-hop-otlp", hopConfig(env.upstreamPort));
    const m = await startSidecar({ ...env, otlp: true }, { name: "hop-otlp-sidecar", config, service: "client", appPort: env.upstreamPort, inbound, outbound, admin });
    return { url: `http://127.0.0.1:${outbound}/`, host: UPSTREAM_SERVICE, proxies: new Map([["sidecar", m]]) };
  },

  // The hop with metrics and tracing off (the access log as in sidecar-hop): the difference to sidecar-hop is what
  // metrics and 1 % tracing cost.
  async "sidecar-hop-dark"(env) {
    const [inbound, outbound, admin] = (await freePorts(3)) as [number, number, number];
    const config = writeConfig(env, "sidecar-hop-dark", dark(hopConfig(env.upstreamPort)));
    const m = await startSidecar({ ...env, metrics: false }, { name: "hop-dark-sidecar", config, service: "client", appPort: env.upstreamPort, inbound, outbound, admin });
    return { url: `http://127.0.0.1:${outbound}/`, host: UPSTREAM_SERVICE, proxies: new Map([["sidecar", m]]) };
  },

  // The hop through a route with every resilience kind configured and none triggering (bench/lib/mesh-config.ts).
  async "sidecar-hop-policies"(env) {
    const [inbound, outbound, admin] = (await freePorts(3)) as [number, number, number];
    const config = writeConfig(env, "sidecar-hop-policies", policiesHopConfig(env.upstreamPort));
    const m = await startSidecar(env, { name: "hop-policies-sidecar", config, service: "client", appPort: env.upstreamPort, inbound, outbound, admin });
    return { url: `http://127.0.0.1:${outbound}/`, host: UPSTREAM_SERVICE, proxies: new Map([["sidecar", m]]) };
  },

  // The hop through a 90/10 split over two subsets with retries and outlier detection (a canary rollout): against
  // sidecar-hop, what a split and idle retries cost.
  async "sidecar-hop-canary"(env) {
    const [inbound, outbound, admin] = (await freePorts(3)) as [number, number, number];
    const config = writeConfig(env, "sidecar-hop-canary", canaryHopConfig(env.upstreamPort));
    const m = await startSidecar(env, { name: "hop-canary-sidecar", config, service: "client", appPort: env.upstreamPort, inbound, outbound, admin });
    return { url: `http://127.0.0.1:${outbound}/`, host: UPSTREAM_SERVICE, proxies: new Map([["sidecar", m]]) };
  },

  // The hop through 10 vs 10,000 path-prefix routes, wrk asking for the middle one: what the route count costs.
  "sidecar-hop-10-routes": (env) => manyRoutesHop(env, "sidecar-hop-10-routes", 10),
  "sidecar-hop-10k-routes": (env) => manyRoutesHop(env, "sidecar-hop-10k-routes", 10_000),

  "sidecar-pair": (env) => pair(env, "sidecar-pair", "pair", meshConfig),

  // The pair for a TCP service: A's local TCP listener (--tcp-upstream) → mTLS → B's inbound at L4 → upstream; the
  // bench's HTTP upstream is carried as opaque bytes (no HTTP parsing on either side, no access lines).
  async "tcp-pair"(env) {
    const [aIn, aOut, aAdmin, bIn, bOut, bAdmin, tcp] = (await freePorts(7)) as [number, number, number, number, number, number, number];
    const cfg = meshConfig(bIn);
    cfg.services![UPSTREAM_SERVICE]!.protocol = "tcp";
    const config = writeConfig(env, "tcp-pair", cfg);
    const b = await startSidecar(env, { name: "tcp-sidecar-b", config, service: UPSTREAM_SERVICE, appPort: env.upstreamPort, inbound: bIn, outbound: bOut, admin: bAdmin });
    const a = await startSidecar(env, { name: "tcp-sidecar-a", config, service: "client", appPort: env.upstreamPort, inbound: aIn, outbound: aOut, admin: aAdmin, extra: ["--tcp-upstream", `${UPSTREAM_SERVICE}=${tcp}`] });
    return { url: `http://127.0.0.1:${tcp}/`, host: UPSTREAM_SERVICE, proxies: new Map([["sidecar-a", a], ["sidecar-b", b]]) };
  },

  // The pair with the access log off on both sidecars: what a per-request log line costs on each side of a hop.
  "sidecar-pair-nolog": (env) => pair(env, "sidecar-pair-nolog", "nolog", meshConfig, { run: { ...env, accessLog: false } }),

  // The pair with both fast paths off: every request as a Request/Response through the full core (what the relays buy).
  "sidecar-pair-full": (env) => pair(env, "sidecar-pair-full", "full", meshConfig, { extra: ["--inbound-fast-path", "off", "--outbound-fast-path", "off"] }),

  // The pair with B's service's own inbound policy (rate limit, header-scoped fault), idle: what deciding them costs.
  "sidecar-pair-policies": (env) => pair(env, "sidecar-pair-policies", "policies", inboundPoliciesPairConfig),

  // The pair again, with a ten-rule authorization policy on B's inbound: what authorization costs per request.
  "sidecar-pair-authz": (env) => pair(env, "sidecar-pair-authz", "authz", authzPairConfig),

  // The pair with metrics and tracing off on both sidecars: the difference to sidecar-pair is what they cost.
  "sidecar-pair-dark": (env) => pair(env, "sidecar-pair-dark", "dark", (bIn) => dark(meshConfig(bIn)), { run: { ...env, metrics: false } }),

  async gateway(env) {
    const [gw, gwAdmin, bIn, bOut, bAdmin] = (await freePorts(5)) as [number, number, number, number, number];
    const config = writeConfig(env, "gateway", meshConfig(bIn, gw));
    const b = await startSidecar(env, { name: "gw-sidecar-b", config, service: UPSTREAM_SERVICE, appPort: env.upstreamPort, inbound: bIn, outbound: bOut, admin: bAdmin });
    const ca = await env.ca();
    const joinArgs = await ca.memberArgs("gateway", join(env.tmp, "state", "gateway"));
    const g = env.set.spawn("gateway", proxyCmd(env, "gateway", "gateway/main.ts", ["--config", config, ...joinArgs, "--admin-port", String(gwAdmin), ...observeArgs(env)]));
    await env.set.waitReady(g, { adminPort: gwAdmin, timeoutMs: READY_TIMEOUT_MS });
    return { url: `http://127.0.0.1:${gw}/`, host: UPSTREAM_SERVICE, proxies: new Map([["gateway", g], ["sidecar-b", b]]) };
  },
};

/** The CA every sidecar and the gateway enroll with; not a proxy, so it runs next to the load generator. */
export async function startCa(env: Pick<ScenarioEnv, "set" | "bun" | "pinLoad" | "tmp">): Promise<DevCa> {
  const dir = join(env.tmp, "ca");
  const fingerprint = initCa(env.bun, dir, TRUST_DOMAIN);
  const m = env.set.spawn("ca", [...env.pinLoad, ...caServeCommand(env.bun, dir)]);
  return devCa(dir, fingerprint, await env.set.waitReady(m));
}
