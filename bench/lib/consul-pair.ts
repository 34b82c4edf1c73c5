// The `consul-pair` peer scenario: Consul 1.8.7's built-in Connect proxies (L4, mTLS) as a sidecar pair, the
// measured bar for sidecar-pair. Command lines and the registration are pure (unit-tested); start() wires them.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { freePorts } from "./ports.ts";
import type { Managed } from "./proc.ts";
import { provisionBinary } from "./provision.ts";
import type { ScenarioEnv, Target } from "./scenarios.ts";
import { UPSTREAM_SERVICE } from "./mesh-config.ts";
import { waitForOk } from "./wait-http.ts";

export type ConsulPairPorts = {
  readonly http: number;
  readonly serfLan: number;
  readonly serfWan: number;
  readonly server: number;
  /** The destination proxy's mTLS listener (the sidecar service's port). */
  readonly public: number;
  /** The source proxy's plaintext listener for upstream `upstream`: where wrk sends its load. */
  readonly local: number;
};

/** A TTL check passed once by the bench: health says "passing" at once and no check traffic hits the proxy under load. */
export const SIDECAR_CHECK_ID = "bench-upstream-sidecar";

/** Single-node dev agent (Connect on, built-in CA, ACLs off so intentions default to allow), on free ports only. */
export function agentArgs(bin: string, dataDir: string, p: ConsulPairPorts): string[] {
  return [bin, "agent", "-dev", "-bind", "127.0.0.1", "-client", "127.0.0.1", "-data-dir", dataDir,
    "-http-port", String(p.http), "-dns-port", "-1", "-grpc-port", "-1",
    "-serf-lan-port", String(p.serfLan), "-serf-wan-port", String(p.serfWan), "-server-port", String(p.server)];
}

/** The part of Consul's /v1/agent/service/register body the bench sends. */
export type ServiceRegistration = {
  Name: string;
  ID: string;
  Address: string;
  Port: number;
  Connect: { SidecarService: { Port: number; Proxy: { Config: Record<string, string> }; Checks: { CheckID: string; Name: string; TTL: string }[] } };
};

/** Service `upstream` (the bench upstream) with a Connect sidecar on `public`: how a Consul user declares one. */
export function upstreamRegistration(upstreamPort: number, p: ConsulPairPorts): ServiceRegistration {
  return {
    Name: UPSTREAM_SERVICE,
    ID: UPSTREAM_SERVICE,
    Address: "127.0.0.1",
    Port: upstreamPort,
    Connect: {
      SidecarService: {
        Port: p.public,
        // The built-in proxy binds 0.0.0.0 unless told otherwise; the bench keeps every listener on loopback.
        Proxy: { Config: { bind_address: "127.0.0.1" } },
        // Replaces the default checks (a TCP check every 10 s, first run after a random delay of up to 10 s).
        Checks: [{ CheckID: SIDECAR_CHECK_ID, Name: "bench", TTL: "24h" }],
      },
    },
  };
}

/** Destination side: takes its listener, identity and local service (the upstream) from the sidecar registration. */
export function destinationArgs(bin: string, p: ConsulPairPorts): string[] {
  return [bin, "connect", "proxy", "-http-addr", `127.0.0.1:${p.http}`, "-sidecar-for", UPSTREAM_SERVICE];
}

/** Source side: identity `client`, upstream `upstream` on 127.0.0.1:local (port-only binds loopback in 1.8.7). */
export function sourceArgs(bin: string, p: ConsulPairPorts): string[] {
  return [bin, "connect", "proxy", "-http-addr", `127.0.0.1:${p.http}`, "-service", "client", "-upstream", `${UPSTREAM_SERVICE}:${p.local}`];
}

async function consulApi(p: ConsulPairPorts, method: "GET" | "PUT", path: string, body?: object): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${p.http}${path}`, { method, body: body && JSON.stringify(body), signal: AbortSignal.timeout(2000) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`consul ${method} ${path}: ${res.status} ${text.slice(0, 200)}`);
  return text;
}

/** The dev agent takes 2–4 s to elect itself; nothing can be registered before that. */
async function waitForLeader(env: ScenarioEnv, agent: Managed, p: ConsulPairPorts, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (agent.proc.exitCode !== null || agent.proc.signalCode !== null) throw new Error(`consul agent exited before electing a leader\n${env.set.describe(agent)}`);
    try {
      if ((await consulApi(p, "GET", "/v1/status/leader")).replace(/"/g, "").trim() !== "") return;
    } catch {
      // not listening yet
    }
    await Bun.sleep(100);
  }
  throw new Error(`consul agent had no leader after ${timeoutMs / 1000} s\n${env.set.describe(agent)}`);
}

export async function startConsulPair(env: ScenarioEnv): Promise<Target> {
  const bin = await provisionBinary(env.repo, "consul");
  const [http, serfLan, serfWan, server, pub, local] = (await freePorts(6)) as [number, number, number, number, number, number];
  const p: ConsulPairPorts = { http, serfLan, serfWan, server, public: pub, local };
  const dataDir = join(env.tmp, "consul-data");
  mkdirSync(dataDir, { recursive: true });
  // The agent is the control plane, idle under load: it runs next to wrk, not on the proxies' CPU.
  const agent = env.set.spawn("consul-agent", [...env.pinLoad, ...agentArgs(bin, dataDir, p)]);
  await waitForLeader(env, agent, p);
  await consulApi(p, "PUT", "/v1/agent/service/register", upstreamRegistration(env.upstreamPort, p));
  await consulApi(p, "PUT", `/v1/agent/check/pass/${SIDECAR_CHECK_ID}`);
  const dst = env.set.spawn("consul-proxy-dst", [...env.pinProxy, ...destinationArgs(bin, p)]);
  const src = env.set.spawn("consul-proxy-src", [...env.pinProxy, ...sourceArgs(bin, p)]);
  const url = `http://127.0.0.1:${local}/`;
  // Each proxy first fetches its leaf certificate and the roots from the agent; until then connections fail.
  await waitForOk(env.set, { url, host: UPSTREAM_SERVICE, procs: [agent, dst, src], timeoutMs: 60_000, what: "consul-pair: probe through both Connect proxies" });
  return { url, host: UPSTREAM_SERVICE, proxies: new Map([["consul-src", src], ["consul-dst", dst]]) };
}
