// Sidecar command line: every flag also as an environment variable (MESH_<FLAG>), flags win.
// Parsed with node:util parseArgs (standard library, works in Bun and Deno) rather than a hand-written parser.
import { parseArgs } from "node:util";
import { parseDuration } from "../shared/config/duration.ts";
import { helpOrVersion, valueFlagsOf } from "../member/cli.ts";
import { parseTcpUpstreams, type TcpUpstreamArg } from "./tcp-upstream-args.ts";
import { chooseMode, envName, kvPrefix, parseJoinFlags, parseMetricsFlags, parseOtlpEndpoint, parsePort, type JoinFlags, type MemberMode } from "../member/flags.ts";

export type SidecarArgs = {
  /** The YAML file; without it (and with --consul) config comes from Consul KV under kvPrefix. */
  config: string | undefined;
  kvPrefix: string;
  service: string;
  instance: string;
  appPort: number;
  appAddress: string;
  inboundAddress: string;
  inboundPort: number;
  outboundPort: number;
  adminPort: number;
  /** The CA, its pinned root, the join token and the state directory (default .mesh/state/<instance or service>). */
  join: JoinFlags;
  accessLog: boolean;
  /** Relay requests no L7 policy needs straight to the app (default on); off = every request as a Request/Response. */
  inboundFastPath: boolean;
  /** The same for the outbound listener: routes with one destination and no filter but a timeout (default on). */
  outboundFastPath: boolean;
  /** Metrics on /metrics of the admin listener (default on), and optionally on a listener of their own. */
  metrics: boolean;
  metricsAddress: { hostname: string; port: number } | undefined;
  /** OTLP/HTTP collector for this member's spans; without it none are recorded (trace headers still propagate). */
  otlpEndpoint: string | undefined;
  /** Consul agent HTTP address (--consul or MESH_CONSUL only): registration, and endpoints from its health checks. */
  consul: string | undefined;
  /** What the flags asked for, and why (logged once at start). */
  mode: MemberMode;
  modeWhy: string;
  tags: string[];
  meta: Record<string, string>;
  /** One local plaintext listener per TCP service the app calls (--tcp-upstream db=15432), carried at L4 over mTLS. */
  tcpUpstreams: TcpUpstreamArg[];
  /** The address other VMs reach the inbound listener on (registered in Consul). */
  advertiseAddress: string;
  appHealthPath: string | undefined;
  /** After leaving rotation on SIGTERM, how long to wait for peers to notice before draining. */
  drainDelayMs: number;
};

const FLAGS = {
  config: { type: "string" },
  "kv-prefix": { type: "string" },
  service: { type: "string" },
  instance: { type: "string" },
  "app-port": { type: "string" },
  "app-address": { type: "string" },
  "inbound-address": { type: "string" },
  "inbound-port": { type: "string" },
  "outbound-port": { type: "string" },
  "admin-port": { type: "string" },
  ca: { type: "string" },
  "ca-fingerprint": { type: "string" },
  "join-token": { type: "string" },
  "join-token-file": { type: "string" },
  "state-dir": { type: "string" },
  "cert-ttl": { type: "string" },
  consul: { type: "string" },
  tag: { type: "string", multiple: true },
  meta: { type: "string", multiple: true },
  "tcp-upstream": { type: "string", multiple: true },
  "advertise-address": { type: "string" },
  "app-health-path": { type: "string" },
  "drain-delay": { type: "string" },
  "access-log": { type: "string" },
  "inbound-fast-path": { type: "string" },
  "outbound-fast-path": { type: "string" },
  metrics: { type: "string" },
  "metrics-address": { type: "string" },
  "otlp-endpoint": { type: "string" },
  "sidecar-config": { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
} as const;

export const SIDECAR_USAGE = `usage: bun run sidecar (--config FILE | --consul ADDR [--kv-prefix mesh/]) --service NAME --app-port P
  --ca https://HOST:PORT --ca-fingerprint sha256:... [--join-token-file FILE | --join-token T] [--state-dir DIR] [--cert-ttl 24h]
  (the token is needed once: the key and certificate are kept in --state-dir, default .mesh/state/<instance or service>)
  [--instance ID] [--inbound-port P (default 15006)] [--outbound-port P (default 15001)] [--admin-port P (default 15000)]
  [--inbound-address A (default 127.0.0.1)] [--app-address A (default 127.0.0.1)] [--access-log on|off]
  [--inbound-fast-path on|off (default on: requests no L7 policy acts on are relayed with only their heads rewritten)]
  [--outbound-fast-path on|off (default on: requests to routes with one destination and no filter but a timeout are relayed)]
  [--metrics on|off (default on: /metrics on the admin port)] [--metrics-address HOST:PORT (a listener serving only /metrics)]
  [--otlp-endpoint http://HOST:4318 (send sampled spans there, OTLP/HTTP JSON; sampling is set in the mesh config)]
  [--consul http://127.0.0.1:8500 | auto (auto = CONSUL_HTTP_ADDR, else http://127.0.0.1:8500): register there and discover
   endpoints from its health checks; CONSUL_HTTP_ADDR alone never turns Consul on]
  [--tag T]... [--meta k=v]... [--advertise-address A (default: the inbound address)] [--app-health-path /health]
  [--tcp-upstream SERVICE=PORT]... (a plaintext listener on 127.0.0.1:PORT carried at L4 to a service with protocol: tcp)
  [--drain-delay 2s (after leaving rotation on SIGTERM, before draining)]
  each flag may also be given as an environment variable (MESH_CONFIG, MESH_SERVICE, MESH_APP_PORT, ...)
  or in a YAML file named by --sidecar-config FILE (keys = flag names); flags win over variables over the file
  -h, --help | --version   print this help / the vm-mesh and runtime versions, exit 0
example:
  bun run sidecar --config mesh.yaml --service echo --app-port 9101 --ca https://ca.internal:8200 \\
    --ca-fingerprint sha256:... --join-token-file /etc/vm-mesh/echo.token
exit codes: 0 stopped cleanly, 1 failed while running, 2 usage error (see docs/cli.md)`;

function onOff(flag: string, v: string | undefined, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (v !== "on" && v !== "off") throw new Error(`--${flag}: "${v}" is not on or off`);
  return v === "on";
}

/** The ports the sidecar itself binds (port 0 = any free one, which cannot clash). */
function sidecarPorts(get: (flag: "inbound-port" | "outbound-port" | "admin-port") => string | undefined): Record<string, number> {
  const ports: Record<string, number> = {};
  for (const [flag, dflt] of [["inbound-port", 15006], ["outbound-port", 15001], ["admin-port", 15000]] as const) {
    const p = parsePort(flag, get(flag), dflt);
    if (p !== 0) ports[flag] = p;
  }
  return ports;
}

/**
 * Flags win over MESH_* variables, which win over the sidecar config file (`--sidecar-config FILE`, YAML with
 * the flag names as keys, e.g. `app-port: 9201`, `tag: [v1, canary]`, `meta: { version: v1 }`).
 */
export function parseSidecarArgs(argv: string[], env: Record<string, string | undefined>, file: Record<string, unknown> = {}): SidecarArgs | "help" | "version" {
  // Asked for help or the version: answer that even if other flags are wrong or missing.
  const asked = helpOrVersion(argv, valueFlagsOf(FLAGS));
  if (asked !== undefined) return asked;
  const { values } = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false });
  for (const key of Object.keys(file)) if (!(key in FLAGS)) throw new Error(`sidecar config file: unknown key "${key}"`);
  const fromFile = (flag: string): string | undefined => {
    const v = file[flag];
    return v === undefined || v === null ? undefined : String(v);
  };
  const get = (flag: keyof typeof FLAGS): string | undefined => {
    const v = values[flag];
    return typeof v === "string" ? v : env[envName(flag)] ?? fromFile(flag);
  };
  const fileList = (flag: "tag" | "meta" | "tcp-upstream"): string[] | undefined => {
    const v = file[flag];
    if (v === undefined || v === null) return undefined;
    if (Array.isArray(v)) return v.map(String);
    if (flag !== "tag" && typeof v === "object") return Object.entries(v as Record<string, unknown>).map(([k, x]) => `${k}=${String(x)}`);
    return [String(v)];
  };
  // Repeatable flags; from the environment as a comma-separated list (MESH_TAG=v1,canary).
  const list = (flag: "tag" | "meta" | "tcp-upstream"): string[] =>
    values[flag] ?? env[envName(flag)]?.split(",").map((s) => s.trim()).filter((s) => s !== "") ?? fileList(flag) ?? [];
  const meta: Record<string, string> = {};
  for (const kv of list("meta")) {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw new Error(`--meta: "${kv}" is not key=value`);
    meta[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const drainDelay = get("drain-delay") ?? "2s";
  if (!/^\d+(ms|s|m)$/.test(drainDelay)) throw new Error(`--drain-delay: "${drainDelay}" is not a duration like 500ms or 2s`);
  const need = (flag: keyof typeof FLAGS): string => {
    const v = get(flag);
    if (v === undefined || v === "") throw new Error(`--${flag} (or ${envName(flag)}) is required`);
    return v;
  };
  const service = need("service");
  const mode = chooseMode(get("config"), get("consul"), env);
  const join = parseJoinFlags(get);
  // Two instances of one service on a VM must not share a state directory: an explicit --instance names its own.
  if (join.stateDir === undefined && get("instance") !== undefined) join.stateDir = `.mesh/state/${get("instance")}`;
  return {
    config: mode.config,
    kvPrefix: kvPrefix(get("kv-prefix")),
    service,
    instance: get("instance") ?? `${service}-${crypto.randomUUID().slice(0, 8)}`,
    appPort: parsePort("app-port", need("app-port"), 0),
    appAddress: get("app-address") ?? "127.0.0.1",
    inboundAddress: get("inbound-address") ?? "127.0.0.1",
    inboundPort: parsePort("inbound-port", get("inbound-port"), 15006),
    outboundPort: parsePort("outbound-port", get("outbound-port"), 15001),
    adminPort: parsePort("admin-port", get("admin-port"), 15000),
    join,
    accessLog: (get("access-log") ?? "on") !== "off",
    inboundFastPath: onOff("inbound-fast-path", get("inbound-fast-path"), true),
    outboundFastPath: onOff("outbound-fast-path", get("outbound-fast-path"), true),
    ...parseMetricsFlags(get),
    otlpEndpoint: parseOtlpEndpoint(get("otlp-endpoint")),
    consul: mode.consul,
    mode: mode.mode,
    modeWhy: mode.why,
    tags: list("tag"),
    meta,
    tcpUpstreams: parseTcpUpstreams(list("tcp-upstream"), sidecarPorts(get)),
    advertiseAddress: get("advertise-address") ?? (get("inbound-address") === "0.0.0.0" ? "127.0.0.1" : get("inbound-address") ?? "127.0.0.1"),
    appHealthPath: get("app-health-path"),
    drainDelayMs: parseDuration(drainDelay),
  };
}
