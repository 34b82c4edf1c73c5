// Who runs where, and how each mesh member is started: the demo apps (deploy/apps) behind their sidecars on
// host2/host3, the gateway on host1; all in Consul mode against their own host's agent, joined with their own token.
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { CaHost } from "./ca-host.ts";
import type { HostProcess, HostProcesses } from "./host-processes.ts";
import type { HostName, Network } from "./netns.ts";
import { CONSUL_HTTP } from "./consul-hosts.ts";

const ROOT = resolve(import.meta.dir, "../..");

export type SidecarSpec = {
  /** Consul service ID and the member's state directory name. */
  instance: string;
  service: "echo" | "web";
  host: HostName;
  version: string;
  appPort: number;
  inboundPort: number;
  outboundPort: number;
  adminPort: number;
};

/**
 * echo v1 on host2, echo v2 and web on host3 (the layout), plus a second web on host2: with a single web
 * instance, restarting its sidecar would fail /web by construction, and host3 dying would take /web down with it.
 * Ports repeat across hosts: each namespace has its own.
 */
export const TOPOLOGY: readonly SidecarSpec[] = [
  { instance: "echo-v1", service: "echo", host: "host2", version: "v1", appPort: 9201, inboundPort: 9101, outboundPort: 15001, adminPort: 15000 },
  { instance: "web-2", service: "web", host: "host2", version: "v1", appPort: 9211, inboundPort: 9111, outboundPort: 15021, adminPort: 15020 },
  { instance: "echo-v2", service: "echo", host: "host3", version: "v2", appPort: 9201, inboundPort: 9101, outboundPort: 15001, adminPort: 15000 },
  { instance: "web-1", service: "web", host: "host3", version: "v1", appPort: 9211, inboundPort: 9111, outboundPort: 15021, adminPort: 15020 },
];

/** The member that joins after the CA restart (step "new-member"): a second echo v1 on host2. */
export const NEW_MEMBER: SidecarSpec = { instance: "echo-v1b", service: "echo", host: "host2", version: "v1", appPort: 9202, inboundPort: 9102, outboundPort: 15011, adminPort: 15010 };

export const GATEWAY_ADMIN_PORT = 15100;

/** Access logs cost CPU under load; MULTIHOST_ACCESS_LOG=on turns them on in every member (logs/<member>.log). */
const ACCESS_LOG = process.env.MULTIHOST_ACCESS_LOG === "on" ? "on" : "off";

export type MemberEnv = { net: Network; procs: HostProcesses; ca: CaHost; dir: string; bun: string; certTtl: string };

/** `fingerprint`: the root this sidecar was told to pin when it joined; restarts keep the same flags. */
export type RunningSidecar = { spec: SidecarSpec; app: HostProcess; sidecar: HostProcess; stateDir: string; fingerprint: string };

export function startApp(env: MemberEnv, spec: SidecarSpec): Promise<HostProcess> {
  const vars: Record<string, string> = spec.service === "echo"
    ? { PORT: String(spec.appPort), VERSION: spec.version, INSTANCE: spec.instance }
    : { PORT: String(spec.appPort), OUTBOUND_PORT: String(spec.outboundPort), INSTANCE: spec.instance };
  return env.procs.start(`app-${spec.instance}`, env.net.hosts[spec.host].ns, [env.bun, join(ROOT, `deploy/apps/${spec.service}.ts`)], { env: vars });
}

/** `tokenFile` only for the first start: a restart runs on the key and leaf kept in the state directory. */
export function startSidecar(env: MemberEnv, spec: SidecarSpec, fingerprint: string, tokenFile?: string): Promise<HostProcess> {
  const address = env.net.hosts[spec.host].address;
  const stateDir = sidecarStateDir(env, spec);
  mkdirSync(join(env.dir, "state"), { recursive: true });
  return env.procs.start(`sidecar-${spec.instance}`, env.net.hosts[spec.host].ns, [
    env.bun, join(ROOT, "sidecar/main.ts"),
    "--consul", CONSUL_HTTP, "--service", spec.service, "--instance", spec.instance,
    "--app-port", String(spec.appPort), "--app-health-path", "/health",
    "--inbound-address", address, "--inbound-port", String(spec.inboundPort), "--advertise-address", address,
    "--outbound-port", String(spec.outboundPort), "--admin-port", String(spec.adminPort),
    "--tag", spec.version, "--meta", `version=${spec.version}`,
    "--ca", env.ca.url, "--ca-fingerprint", fingerprint, "--state-dir", stateDir, "--cert-ttl", env.certTtl,
    ...(tokenFile === undefined ? [] : ["--join-token-file", tokenFile]),
    "--access-log", ACCESS_LOG,
  ]);
}

export function sidecarStateDir(env: MemberEnv, spec: SidecarSpec): string {
  return join(env.dir, "state", spec.instance);
}

/** App and sidecar; the sidecar joins with a fresh single-use token, pinning `fingerprint` (default: the first root). */
export async function startMember(env: MemberEnv, spec: SidecarSpec, fingerprint = env.ca.fingerprint): Promise<RunningSidecar> {
  const token = await env.ca.tokenFile(spec.service, spec.instance);
  const app = await startApp(env, spec);
  const sidecar = await startSidecar(env, spec, fingerprint, token);
  return { spec, app, sidecar, stateDir: sidecarStateDir(env, spec), fingerprint };
}

/** SIGTERM the sidecar, wait until it is gone, start it again with the same flags and state directory, no token. */
export async function restartSidecar(env: MemberEnv, m: RunningSidecar): Promise<{ stopMs: number; startMs: number; tokenless: boolean }> {
  const t0 = performance.now();
  await env.procs.stop(m.sidecar);
  const t1 = performance.now();
  m.sidecar = await startSidecar(env, m.spec, m.fingerprint);
  const tokenless = env.procs.tail(m.sidecar, 200).includes("no join token needed");
  return { stopMs: t1 - t0, startMs: performance.now() - t1, tokenless };
}

export async function startGateway(env: MemberEnv): Promise<HostProcess> {
  const token = await env.ca.tokenFile("gateway", "gateway");
  return env.procs.start("gateway", env.net.hosts.host1.ns, [
    env.bun, join(ROOT, "gateway/main.ts"), "--consul", CONSUL_HTTP,
    "--ca", env.ca.url, "--ca-fingerprint", env.ca.fingerprint, "--join-token-file", token,
    "--state-dir", join(env.dir, "state", "gateway"), "--cert-ttl", env.certTtl,
    "--admin-port", String(GATEWAY_ADMIN_PORT), "--access-log", ACCESS_LOG,
  ]);
}
