// Gateway command line: config file, CA, admin port; every flag also as MESH_<FLAG>.
// Listeners come from the config (gateway.listeners), so one file describes the whole edge.
import { parseArgs } from "node:util";

import { helpOrVersion, valueFlagsOf } from "../member/cli.ts";
import { chooseMode, envName, JOIN_FLAG_NAMES, kvPrefix, parseJoinFlags, parseMetricsFlags, parseOtlpEndpoint, parsePort, type JoinFlags, type MemberMode } from "../member/flags.ts";

export type GatewayArgs = {
  config: string | undefined; kvPrefix: string; join: JoinFlags; adminPort: number; accessLog: boolean; consul: string | undefined;
  /** What the flags asked for, and why (logged once at start). */
  mode: MemberMode; modeWhy: string;
  metrics: boolean; metricsAddress: { hostname: string; port: number } | undefined;
  otlpEndpoint: string | undefined;
  /** Relay requests to routes with one destination and no filter but a timeout without Hono and a Request (default on). */
  fastPath: boolean;
  /** The console on the admin listener (/console, default on), and the /metrics URLs it scrapes besides Consul's members. */
  console: boolean;
  consoleTargets: string[];
};

export const GATEWAY_USAGE = `usage: bun run gateway (--config FILE | --consul ADDR [--kv-prefix mesh/]) --ca https://HOST:PORT --ca-fingerprint sha256:...
  [--join-token-file FILE | --join-token T] [--state-dir DIR (default .mesh/state/<gateway name>)] [--cert-ttl 24h]
  [--admin-port P (default 15100)] [--access-log on|off] [--consul ADDR | auto (or MESH_CONSUL; auto = CONSUL_HTTP_ADDR, else http://127.0.0.1:8500; CONSUL_HTTP_ADDR alone never turns Consul on)]
  [--metrics on|off (default on: /metrics on the admin port)] [--metrics-address HOST:PORT (a listener serving only /metrics)]
  [--otlp-endpoint http://HOST:4318 (send sampled spans there, OTLP/HTTP JSON; sampling is set in the mesh config)]
  [--fast-path on|off (default on: requests to routes with one destination and no filter but a timeout are relayed)]
  [--console on|off (default on: a web console at http://127.0.0.1:<admin port>/console; scrapes only while viewed)]
  [--console-targets URL,URL (members' /metrics URLs for the console besides those Consul registers, e.g. each sidecar's
   http://127.0.0.1:<its admin port>/metrics on this VM)]
  each flag may also be given as an environment variable: MESH_CONFIG, MESH_CA, MESH_CA_FINGERPRINT, MESH_JOIN_TOKEN,
  MESH_JOIN_TOKEN_FILE, MESH_STATE_DIR, MESH_CERT_TTL, MESH_ADMIN_PORT, MESH_ACCESS_LOG, MESH_METRICS, MESH_METRICS_ADDRESS, MESH_OTLP_ENDPOINT, MESH_FAST_PATH,
  MESH_CONSOLE, MESH_CONSOLE_TARGETS
  -h, --help | --version   print this help / the vm-mesh and runtime versions, exit 0
example:
  bun run gateway --config mesh.yaml --ca https://ca.internal:8200 --ca-fingerprint sha256:... --join-token-file /etc/vm-mesh/gateway.token
exit codes: 0 stopped cleanly, 1 failed while running, 2 usage error (see docs/cli.md)`;

const OPTIONS = { config: { type: "string" }, ...Object.fromEntries(JOIN_FLAG_NAMES.map((f) => [f, { type: "string" as const }])), consul: { type: "string" }, "kv-prefix": { type: "string" }, "admin-port": { type: "string" }, "access-log": { type: "string" }, metrics: { type: "string" }, "metrics-address": { type: "string" }, "otlp-endpoint": { type: "string" }, "fast-path": { type: "string" }, console: { type: "string" }, "console-targets": { type: "string" }, help: { type: "boolean", short: "h" }, version: { type: "boolean" } } as const;

export function parseGatewayArgs(argv: string[], env: Record<string, string | undefined>): GatewayArgs | "help" | "version" {
  // Asked for help or the version: answer that even if other flags are wrong or missing.
  const asked = helpOrVersion(argv, valueFlagsOf(OPTIONS));
  if (asked !== undefined) return asked;
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  const config = values.config ?? env.MESH_CONFIG;
  const flags = values as Record<string, string | boolean | undefined>;
  const join = parseJoinFlags((flag) => {
    const v = flags[flag];
    return typeof v === "string" ? v : env[envName(flag)];
  });
  const adminPort = parsePort("admin-port", values["admin-port"] ?? env.MESH_ADMIN_PORT, 15100);
  const mode = chooseMode(config, values.consul ?? env.MESH_CONSUL, env);
  const metrics = parseMetricsFlags((flag) => values[flag] ?? env[envName(flag)]);
  const fast = values["fast-path"] ?? env.MESH_FAST_PATH ?? "on";
  if (fast !== "on" && fast !== "off") throw new Error(`--fast-path: "${fast}" is not on or off`);
  const consoleOn = values.console ?? env.MESH_CONSOLE ?? "on";
  if (consoleOn !== "on" && consoleOn !== "off") throw new Error(`--console: "${consoleOn}" is not on or off`);
  const consoleTargets = parseConsoleTargets(values["console-targets"] ?? env.MESH_CONSOLE_TARGETS);
  if (consoleOn === "off" && consoleTargets.length > 0) throw new Error("--console-targets needs --console on");
  return { console: consoleOn === "on", consoleTargets, config: mode.config, mode: mode.mode, modeWhy: mode.why, consul: mode.consul, kvPrefix: kvPrefix(values["kv-prefix"] ?? env.MESH_KV_PREFIX), join, adminPort, accessLog: (values["access-log"] ?? env.MESH_ACCESS_LOG ?? "on") !== "off", ...metrics, otlpEndpoint: parseOtlpEndpoint(values["otlp-endpoint"] ?? env.MESH_OTLP_ENDPOINT), fastPath: fast === "on" };
}

/** Comma-separated http(s) URLs; a bare `http://host:port` means its /metrics. */
export function parseConsoleTargets(raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === "") return [];
  return raw.split(",").map((t) => t.trim()).filter((t) => t !== "").map((t) => {
    if (!/^https?:\/\//i.test(t)) throw new Error(`--console-targets: "${t}" is not an http(s) URL (expected e.g. http://127.0.0.1:15301/metrics)`);
    let url: URL;
    try {
      url = new URL(t);
    } catch {
      throw new Error(`--console-targets: "${t}" is not a URL (expected e.g. http://127.0.0.1:15301/metrics)`);
    }
    if (url.pathname === "/") url.pathname = "/metrics";
    return url.toString();
  });
}
