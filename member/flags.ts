// Flag helpers every entry point shares (sidecar, gateway, meshctl): ports, the KV prefix and the Consul address
// are spelled and checked the same way everywhere, and so are the flags that join a member to the mesh.
import { normalizeFingerprint } from "../shared/pki/fingerprint.ts";

/** Every flag also reads from MESH_<FLAG> (dashes become underscores). */
export function envName(flag: string): string {
  return `MESH_${flag.toUpperCase().replaceAll("-", "_")}`;
}

export function parsePort(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--${name}: "${raw}" is not a port number`);
  return n;
}

/** A switch flag: "on" or "off" (anything else is a mistake worth stopping for). */
export function parseOnOff(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === "") return fallback;
  if (raw === "on" || raw === "off") return raw === "on";
  throw new Error(`--${name}: "${raw}" must be on or off`);
}

/** HOST:PORT ([v6]:PORT for IPv6), e.g. 0.0.0.0:9102 for a scraper on another host. */
export function parseHostPort(name: string, raw: string | undefined): { hostname: string; port: number } | undefined {
  if (raw === undefined || raw === "") return undefined;
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d+)$/.exec(raw);
  if (m === null) throw new Error(`--${name}: "${raw}" is not HOST:PORT`);
  return { hostname: m[1]!.replace(/^\[|\]$/g, ""), port: parsePort(name, m[2], 0) };
}

/** --metrics on|off and --metrics-address HOST:PORT, the same for the sidecar and the gateway. */
export function parseMetricsFlags(get: (flag: "metrics" | "metrics-address") => string | undefined): { metrics: boolean; metricsAddress: { hostname: string; port: number } | undefined } {
  const metrics = parseOnOff("metrics", get("metrics"), true);
  const metricsAddress = parseHostPort("metrics-address", get("metrics-address"));
  if (!metrics && metricsAddress !== undefined) throw new Error("--metrics-address needs --metrics on");
  return { metrics, metricsAddress };
}

/**
 * --otlp-endpoint: where spans go (OTLP/HTTP, JSON). A bare collector address gets OTLP's trace path, like
 * OTEL_EXPORTER_OTLP_ENDPOINT (http://collector:4318 → http://collector:4318/v1/traces); a URL with a path is used as it is.
 */
export function parseOtlpEndpoint(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === "") return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`--otlp-endpoint: "${raw}" is not a URL (http://HOST:4318 or a full URL ending in /v1/traces)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`--otlp-endpoint: "${raw}" must be an http:// or https:// URL`);
  if (url.username !== "" || url.password !== "") throw new Error("--otlp-endpoint: credentials in the URL would end up in logs; put the collector behind a local agent instead");
  if (url.pathname === "/" || url.pathname === "") url.pathname = "/v1/traces";
  return url.toString();
}

/** KV prefixes are folders: "mesh" and "mesh/" both mean the documents under mesh/. */
export function kvPrefix(raw: string | undefined): string {
  const p = (raw ?? "mesh/").replace(/^\/+/, "");
  return p.endsWith("/") ? p : `${p}/`;
}

/** CONSUL_HTTP_ADDR may omit the scheme (Consul's own CLI accepts "127.0.0.1:8500"). */
export function consulAddr(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === "") return undefined;
  return (/^https?:\/\//.test(raw) ? raw : `http://${raw}`).replace(/\/+$/, "");
}

/** Where a member's config and endpoints come from; logged once at start with the reason. */
export type MemberMode = "file" | "consul-kv" | "file+consul-endpoints";

export type ModeChoice = { mode: MemberMode; config: string | undefined; consul: string | undefined; why: string };

export const DEFAULT_CONSUL_ADDR = "http://127.0.0.1:8500";

export const MODE_HELP = "pick a mode: --config FILE (the file alone), --consul ADDR (config from Consul KV, endpoints from Consul), or both (config from the file, endpoints from Consul); --consul auto uses CONSUL_HTTP_ADDR, else " + DEFAULT_CONSUL_ADDR;

/**
 * The mode is what the flags say: only --consul (or MESH_CONSUL, the same flag as a variable) turns Consul on.
 * CONSUL_HTTP_ADDR is set on most Consul VMs for the consul CLI; taking it as a switch put file-mode members into
 * Consul without being asked. It still supplies the address for `--consul auto`.
 */
export function chooseMode(config: string | undefined, consulFlag: string | undefined, env: Record<string, string | undefined>): ModeChoice {
  const file = config === undefined || config === "" ? undefined : config;
  const flag = consulFlag === undefined || consulFlag === "" ? undefined : consulFlag;
  const fromEnv = env.CONSUL_HTTP_ADDR === undefined || env.CONSUL_HTTP_ADDR === "" ? undefined : env.CONSUL_HTTP_ADDR;
  const consul = flag === undefined ? undefined : consulAddr(flag === "auto" ? fromEnv ?? DEFAULT_CONSUL_ADDR : flag);
  const ignored = fromEnv !== undefined && flag === undefined ? "; CONSUL_HTTP_ADDR is set but ignored (only --consul or MESH_CONSUL selects Consul)" : "";
  if (file === undefined && consul === undefined) {
    throw new Error(`no config source: ${MODE_HELP}${ignored === "" ? "" : ` (CONSUL_HTTP_ADDR alone does not: add --consul auto to use it)`}`);
  }
  const addrWhy = flag === "auto" ? (fromEnv !== undefined ? " (--consul auto: address from CONSUL_HTTP_ADDR)" : ` (--consul auto: CONSUL_HTTP_ADDR unset, so ${DEFAULT_CONSUL_ADDR})`) : "";
  if (consul === undefined) return { mode: "file", config: file, consul, why: `--config given without --consul${ignored}` };
  if (file === undefined) return { mode: "consul-kv", config: file, consul, why: `--consul given without --config: config from Consul KV, endpoints from Consul${addrWhy}` };
  return { mode: "file+consul-endpoints", config: file, consul, why: `--config and --consul given: config from the file, endpoints from Consul (a service Consul has no instance of keeps the file's instances)${addrWhy}` };
}

/** Lifetimes like 90s, 30m, 24h, 7d (the config's durations stop at minutes; certificates and tokens need more). */
export function parseLifetime(name: string, raw: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(raw);
  if (m === null) throw new Error(`--${name}: "${raw}" is not a duration like 90s, 30m, 24h or 7d`);
  const ms = Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as "s" | "m" | "h" | "d"];
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new Error(`--${name}: "${raw}" is out of range`);
  return ms;
}

/** The flags that join a member to the mesh, as read by `get` (flag, then MESH_<FLAG>, then any config file). */
export type JoinFlags = {
  ca: string;
  caFingerprint: string;
  joinToken: string | undefined;
  joinTokenFile: string | undefined;
  /** undefined: the assembly's default (.mesh/state/<name>, relative to the working directory). */
  stateDir: string | undefined;
  certTtlMs: number | undefined;
};

export const JOIN_FLAG_NAMES = ["ca", "ca-fingerprint", "join-token", "join-token-file", "state-dir", "cert-ttl"] as const;

export function parseJoinFlags(get: (flag: (typeof JOIN_FLAG_NAMES)[number]) => string | undefined): JoinFlags {
  const ca = get("ca");
  if (ca === undefined || ca === "") throw new Error("--ca https://HOST:PORT (or MESH_CA) is required");
  if (!/^https:\/\/[^/]+\/?$/.test(ca)) throw new Error(`--ca: "${ca}" must be the CA's https://HOST:PORT (the CA serves HTTPS only)`);
  const rawFp = get("ca-fingerprint");
  if (rawFp === undefined || rawFp === "") {
    throw new Error("--ca-fingerprint sha256:... (or MESH_CA_FINGERPRINT) is required: a member never trusts an unpinned CA; `ca fingerprint --state DIR` on the CA host prints it");
  }
  const caFingerprint = normalizeFingerprint(rawFp);
  if (caFingerprint === undefined) throw new Error(`--ca-fingerprint: "${rawFp}" is not a SHA-256 fingerprint (sha256: and 64 hex digits)`);
  const joinToken = get("join-token") || undefined;
  const joinTokenFile = get("join-token-file") || undefined;
  if (joinToken !== undefined && joinTokenFile !== undefined) throw new Error("give --join-token or --join-token-file, not both");
  const ttl = get("cert-ttl");
  return { ca: ca.replace(/\/+$/, ""), caFingerprint, joinToken, joinTokenFile, stateDir: get("state-dir") || undefined, certTtlMs: ttl === undefined ? undefined : parseLifetime("cert-ttl", ttl) };
}
