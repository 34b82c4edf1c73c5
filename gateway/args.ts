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
};

export const GATEWAY_USAGE = `usage: bun run gateway (--config FILE | --consul ADDR [--kv-prefix mesh/]) --ca https://HOST:PORT --ca-fingerprint sha256:...
  [--join-token-file FILE | --join-token T] [--state-dir DIR (default .mesh/state/<gateway name>)] [--cert-ttl 24h]
  [--admin-port P (default 15100)] [--access-log on|off] [--consul ADDR | auto (or MESH_CONSUL; auto = CONSUL_HTTP_ADDR, else http://127.0.0.1:8500; CONSUL_HTTP_ADDR alone never turns Consul on)]
  [--metrics on|off (default on: /metrics on the admin port)] [--metrics-address HOST:PORT (a listener serving only /metrics)]
  [--otlp-endpoint http://HOST:4318 (send sampled spans there, OTLP/HTTP JSON; sampling is set in the mesh config)]
  [--fast-path on|off (default on: requests to routes with one destination and no filter but a timeout are relayed)]
  each flag may also be given as an environment variable: MESH_CONFIG, MESH_CA, MESH_CA_FINGERPRINT, MESH_JOIN_TOKEN,
  MESH_JOIN_TOKEN_FILE, MESH_STATE_DIR, MESH_CERT_TTL, MESH_ADMIN_PORT, MESH_ACCESS_LOG, MESH_METRICS, MESH_METRICS_ADDRESS, MESH_OTLP_ENDPOINT, MESH_FAST_PATH
  -h, --help | --version   print this help / the vm-mesh and runtime versions, exit 0
example:
  bun run gateway --config mesh.yaml --ca https://ca.internal:8200 --ca-fingerprint sha256:... --join-token-file /etc/vm-mesh/gateway.token
exit codes: 0 stopped cleanly, 1 failed while running, 2 usage error (see docs/cli.md)`;

const OPTIONS = { config: { type: "string" }, ...Object.fromEntries(JOIN_FLAG_NAMES.map((f) => [f, { type: "string" as const }])), consul: { type: "string" }, "kv-prefix": { type: "string" }, "admin-port": { type: "string" }, "access-log": { type: "string" }, metrics: { type: "string" }, "metrics-address": { type: "string" }, "otlp-endpoint": { type: "string" }, "fast-path": { type: "string" }, help: { type: "boolean", short: "h" }, version: { type: "boolean" } } as const;

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
  return { config: mode.config, mode: mode.mode, modeWhy: mode.why, consul: mode.consul, kvPrefix: kvPrefix(values["kv-prefix"] ?? env.MESH_KV_PREFIX), join, adminPort, accessLog: (values["access-log"] ?? env.MESH_ACCESS_LOG ?? "on") !== "off", ...metrics, otlpEndpoint: parseOtlpEndpoint(values["otlp-endpoint"] ?? env.MESH_OTLP_ENDPOINT), fastPath: fast === "on" };
}
