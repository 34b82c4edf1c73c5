// Starting and stopping a mesh member, the same for every assembly: log sink and logger, joining the mesh, the
// admin listener, Consul registration and status report, and the ordered shutdown on SIGTERM.
import type { MeshConfig } from "../shared/config/schema.ts";
import type { LogSink, RuntimePorts } from "../runtime/ports.ts";
import { createLogger, flushLog, type Logger } from "./logger.ts";
import { joinMesh, type Member } from "./join.ts";
import type { JoinFlags, MemberMode } from "./flags.ts";
import { startAdmin, type AdminOptions } from "./admin.ts";
import { onShutdown } from "./shutdown.ts";
import { EXIT, isUnreachable } from "./cli.ts";
import { createObservation, type Observation } from "../shared/telemetry/observe.ts";
import { subscribeAccessLog } from "../shared/telemetry/access-log.ts";
import { startMemberMetrics, type InFlight, type MemberMetrics } from "./metrics/member-metrics.ts";
import { startMetricsListener } from "./metrics/listener.ts";
import type { MemberKind } from "./metrics/registry.ts";
import type { Tracing } from "./tracing/tracing.ts";
import { parseSpiffeId } from "../shared/pki/spiffe.ts";

export type CommonArgs = {
  config: string | undefined; kvPrefix: string; join: JoinFlags; consul: string | undefined; adminPort: number; accessLog: boolean;
  /** Chosen from the flags alone (member/flags.ts chooseMode); logged once at start with `modeWhy`. */
  mode: MemberMode;
  modeWhy: string;
  /** Off: no metrics subscriber on the hub, no /metrics. */
  metrics: boolean;
  /** A second listener serving only /metrics, for a scraper on another host. */
  metricsAddress: { hostname: string; port: number } | undefined;
  /** OTLP/HTTP collector for spans; undefined: none are recorded (trace headers still propagate). */
  otlpEndpoint: string | undefined;
};

/** Each member's span export, started with the member and flushed by its shutdown (kept here, not threaded through every assembly). */
const tracings = new WeakMap<Member, Tracing>();

/** Joins the mesh or exits 1 with a fatal line: nothing else can run without an identity and a config. */
export async function startMember(opts: {
  runtime: RuntimePorts;
  logName: string;
  kind: MemberKind;
  args: CommonArgs;
  service: string | ((first: MeshConfig) => string);
  /** This member's instance id (sidecars): a service's fault may target instances. */
  instance?: string;
}): Promise<{ member: Member; log: Logger; sink: LogSink; observe: Observation; metrics: MemberMetrics | undefined }> {
  const sink = opts.runtime.stdoutSink();
  const log = createLogger({ service: opts.logName, sink });
  // One hub per process: the access log is its first subscriber; metrics and tracing subscribe the same way.
  const observe = createObservation();
  subscribeAccessLog(observe, opts.logName, sink, opts.args.accessLog);
  // Once, before anything can fail: an operator sees which mode the member runs in and what chose it.
  log.info({ mode: opts.args.mode, config: opts.args.config, consul: opts.args.consul, why: opts.args.modeWhy }, "mode");
  try {
    const a = opts.args;
    const member = await joinMesh({ runtime: opts.runtime, configPath: a.config, kvPrefix: a.kvPrefix, join: a.join, consul: a.consul, service: opts.service, instance: opts.instance, log });
    // Subscribed before any listener starts; the service name comes from the identity the member joined with.
    const service = member.spiffeId.slice(member.spiffeId.lastIndexOf("/") + 1);
    const metrics = a.metrics ? startMemberMetrics({ kind: opts.kind, service, trustDomain: member.trustDomain, observe }) : undefined;
    if (a.otlpEndpoint !== undefined) {
      const namespace = parseSpiffeId(member.spiffeId)?.namespace ?? "default";
      // Loaded only here: a member without a collector never pays for the SDK's modules.
      const { startTracing } = await import("./tracing/tracing.ts");
      tracings.set(member, startTracing({ endpoint: a.otlpEndpoint, service, namespace, observe, log, plainClient: member.plainClient }));
    }
    return { member, log, sink, observe, metrics };
  } catch (err) {
    // A refusal names its reason (token-expired, ca-fingerprint-mismatch, ...) as a field too, for log searches.
    const c = typeof err === "object" && err !== null ? (err as { code?: unknown }).code : undefined;
    const code = typeof c === "string" ? { error: c } : {};
    const unreachable = isUnreachable(err);
    log.fatal(unreachable ? { error: "unreachable", ...code } : code, err instanceof Error ? err.message : String(err));
    flushLog(log);
    process.exit(unreachable ? EXIT.unreachable : EXIT.problem);
  }
}

/**
 * Where Prometheus' consul_sd_configs finds /metrics (deploy/prometheus/prometheus.consul.yml): only the separate
 * metrics listener is reachable from another host; without one nothing is advertised (the admin port is loopback).
 */
function metricsMeta(port: number | undefined, hostname: string | undefined): Record<string, string> {
  if (port === undefined) return {};
  const wildcard = hostname === undefined || hostname === "0.0.0.0" || hostname === "::";
  return { metrics_port: String(port), ...(wildcard ? {} : { metrics_address: hostname }) };
}

/** What a member serves beyond the core; each closes with a drain budget on shutdown. */
export type Listener = { close(drainMs: number): Promise<void> };

export type ServeOptions = {
  runtime: RuntimePorts;
  member: Member;
  log: Logger;
  args: CommonArgs;
  metrics: MemberMetrics | undefined;
  /** Requests in flight per side, for the metrics. */
  inFlight: InFlight;
  listeners: Listener[];
  /** Ready for traffic (besides not draining): the sidecar adds its app's health. */
  healthy?: () => boolean;
  info: (draining: boolean) => Record<string, unknown>;
  /** Consul registration, when the member runs with --consul. */
  registration?: { id: string; service: string; address: string; port: number; tags: string[]; meta: Record<string, string>; drainDelayMs: number };
  /** Extra resources to release last (app health poller, ...). */
  onStopped?: () => void;
  readyFields: Record<string, unknown>;
  /** Extra admin paths (the gateway's console). */
  adminRoutes?: AdminOptions["routes"];
};

/** Admin, registration, status report and the shutdown order: leave rotation, wait, drain, deregister, release. */
export async function serveMember(o: ServeOptions): Promise<void> {
  const { member, log, args } = o;
  const tracing = tracings.get(member);
  let draining = false;
  const ready = (): boolean => !draining && (o.healthy?.() ?? true);
  const admin = startAdmin({
    serveWeb: o.runtime.serveWeb,
    port: args.adminPort,
    live: member.live,
    ready,
    discovery: member.discovery === undefined ? undefined : () => ({ source: "consul", consul: args.consul, services: member.discovery!.status() }),
    // Every member shows how long its certificate has left: with the CA down, this is the time the member has.
    info: () => ({ ...o.info(draining), certNotAfter: member.creds.notAfter().toISOString(), certSecondsLeft: member.creds.secondsLeft(), trust: member.creds.trust(), ...(tracing === undefined ? {} : { spans: tracing.stats() }) }),
    metrics: o.metrics?.render,
    routes: o.adminRoutes,
  });
  const discovery = member.discovery;
  o.metrics?.attach({ live: member.live, discovery: discovery && (() => discovery.status()), creds: member.creds, spiffeId: member.spiffeId, runtime: o.runtime.name, inFlight: o.inFlight });
  const ma = args.metricsAddress;
  const metricsListener = o.metrics === undefined || ma === undefined ? undefined : startMetricsListener({ serveWeb: o.runtime.serveWeb, hostname: ma.hostname, port: ma.port, render: o.metrics.render });
  const token = process.env.CONSUL_HTTP_TOKEN;
  const reg = o.registration;
  // Both load the consul client: imported only when there is an agent to talk to (a file-mode member never loads it).
  const registration = args.consul === undefined || reg === undefined ? undefined : await (await import("./registration.ts")).startRegistration({
    consul: args.consul, token, id: reg.id, service: reg.service, address: reg.address, port: reg.port, adminPort: admin.port,
    tags: reg.tags, meta: { ...reg.meta, ...metricsMeta(metricsListener?.port, ma?.hostname) }, log, initiallyPassing: ready,
  });
  const statusReport = args.consul === undefined || reg === undefined ? undefined : (await import("./status-report.ts")).startStatusReport({ consul: args.consul, token, id: reg.id, live: member.live, log, certificate: () => member.creds.current().certChainPem });

  onShutdown(log, async () => {
    draining = true;
    if (registration !== undefined) {
      await registration.leaveRotation();
      await new Promise((r) => setTimeout(r, reg!.drainDelayMs));
    }
    const drainMs = member.live.current().limits.drainTimeoutMs;
    await Promise.all(o.listeners.map((l) => l.close(drainMs)));
    await tracing?.stop(); // the last requests' spans, within a short deadline
    await registration?.deregister();
    await statusReport?.remove();
    o.onStopped?.();
    member.discovery?.stop();
    member.live.stop();
    member.source.stop();
    member.client.close();
    member.plainClient.close();
    member.creds.stop();
    o.metrics?.stop();
    metricsListener?.stop();
    admin.stop();
  });
  const metricsPort = metricsListener === undefined ? {} : { metricsPort: metricsListener.port };
  log.info({ ...o.readyFields, spiffeId: member.spiffeId, adminPort: admin.port, ...metricsPort }, "ready");
  flushLog(log);
}
