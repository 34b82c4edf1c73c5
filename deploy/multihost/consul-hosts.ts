// Consul across the three namespaces: a server on host1 (-bootstrap-expect=1), client agents on host2 and host3
// (-retry-join host1), each with its HTTP API on its own 127.0.0.1:8500; plus the health queries the steps wait on.
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { HostProcesses, HostProcess } from "./host-processes.ts";
import type { HostName, Network } from "./netns.ts";
import { nsGetJson } from "./ns-command.ts";
import { waitFor } from "./wait.ts";

export const CONSUL_HTTP = "http://127.0.0.1:8500";
const PROVISION = resolve(import.meta.dir, "../consul/provision.sh");

/** The consul binary: $CONSUL_BIN, PATH, the repo's cache, else fetched once from Debian 11 (deploy/consul/provision.sh). */
export async function consulBinary(): Promise<string> {
  const p = Bun.spawn(["bash", PROVISION], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  const path = out.trim().split("\n").pop() ?? "";
  if (code !== 0 || path === "") throw new Error(`deploy/consul/provision.sh failed (${code}):\n${err}`);
  return path;
}

export type ConsulHosts = { agents: Record<HostName, HostProcess> };

type Member = { Name: string; Status: number };

export async function startConsulHosts(net: Network, procs: HostProcesses, dataDir: string): Promise<ConsulHosts> {
  const bin = await consulBinary();
  const h1 = net.hosts.host1;
  const agent = (host: HostName, extra: string[]): string[] => {
    const dir = join(dataDir, host);
    mkdirSync(dir, { recursive: true });
    return [bin, "agent", "-node", host, "-bind", net.hosts[host].address, "-client", "127.0.0.1", "-data-dir", dir,
      "-dns-port", "-1", "-hcl", "performance { raft_multiplier = 1 }", ...extra];
  };
  const server = await procs.start("consul-host1", h1.ns, agent("host1", ["-server", "-bootstrap-expect", "1"]), {
    readyWhen: async () => (await nsGetJson<string>(h1.ns, `${CONSUL_HTTP}/v1/status/leader`)) !== "",
  });
  const clients = await Promise.all((["host2", "host3"] as const).map((h) =>
    procs.start(`consul-${h}`, net.hosts[h].ns, agent(h, ["-retry-join", h1.address, "-retry-interval", "1s"]), {
      readyWhen: async () => (await nsGetJson<Member[]>(net.hosts[h].ns, `${CONSUL_HTTP}/v1/agent/members`)).some((m) => m.Name === "host1" && m.Status === 1),
    })));
  await waitFor("consul: all three nodes alive", async () => (await nsGetJson<Member[]>(h1.ns, `${CONSUL_HTTP}/v1/agent/members`)).filter((m) => m.Status === 1).length === 3);
  return { agents: { host1: server, host2: clients[0]!, host3: clients[1]! } };
}

type HealthEntry = { Service: { ID: string; Address: string; Port: number } };

/** Instance ids of `service` whose checks all pass, as the server on host1 sees them. */
export async function passingInstances(net: Network, service: string): Promise<string[]> {
  const entries = await nsGetJson<HealthEntry[]>(net.hosts.host1.ns, `${CONSUL_HTTP}/v1/health/service/${service}?passing`);
  return entries.map((e) => e.Service.ID).sort();
}

/** Waits until `check(passing ids)` holds; returns how long that took. */
export async function waitForPassing(net: Network, service: string, check: (ids: string[]) => boolean, timeoutMs = 20_000): Promise<number> {
  let last: string[] = [];
  try {
    return await waitFor(`consul: passing ${service} instances as expected`, async () => check((last = await passingInstances(net, service))), timeoutMs);
  } catch (err) {
    throw new Error(`${err instanceof Error ? err.message : String(err)}; last seen passing: ${last.join(", ") || "none"}`);
  }
}
