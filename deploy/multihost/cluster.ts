// The whole three-host mesh up and down: namespaces, Consul, the CA, the config in KV, the gateway and the
// sidecars with their apps. Teardown stops every process by PID and deletes the network, also from an 'exit' hook.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNetwork, destroyNetwork, sweepStaleNetworks, type Network } from "./netns.ts";
import { HostProcesses, type HostProcess } from "./host-processes.ts";
import { startConsulHosts, waitForPassing, type ConsulHosts } from "./consul-hosts.ts";
import { startCaHost, type CaHost } from "./ca-host.ts";
import { GATEWAY_PORT, writeMeshFile, writePolicyFile } from "./mesh-config.ts";
import { GATEWAY_ADMIN_PORT, startGateway, startMember, TOPOLOGY, type MemberEnv, type RunningSidecar } from "./members.ts";
import { routedEndpoints, type AdminRef } from "./member-admin.ts";
import { waitFor } from "./wait.ts";

export type ClusterOptions = {
  /** Leaf lifetime every member asks for (short, so renewals happen during the run). */
  certTtl?: string;
  /** Keep the run directory (logs, state, config) after teardown. */
  keep?: boolean;
  log?: (line: string) => void;
};

export type Cluster = MemberEnv & {
  consul: ConsulHosts;
  gateway: HostProcess;
  /** Running sidecars by instance id (steps add and replace entries). */
  sidecars: Map<string, RunningSidecar>;
  /** http://<host1>:8080, reached from the root namespace. */
  gatewayUrl: string;
  meshFile: string;
  log: (line: string) => void;
  /** Every member's admin API (gateway first), for /info and /clusters. */
  admins(): AdminRef[];
  /** Stops everything and deletes the network; the run directory stays with `keep` (or `keepDir`, e.g. after a failure). */
  teardown(o?: { keepDir?: boolean }): Promise<string[]>;
};

const BUN = process.execPath;

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const dir = mkdtempSync(join(tmpdir(), "vm-mesh-3hosts-"));
  for (const d of ["logs", "tokens", "state"]) mkdirSync(join(dir, d), { recursive: true, mode: 0o700 });
  const procs = new HostProcesses(join(dir, "logs"));
  const stale = sweepStaleNetworks();
  if (stale.length > 0) log(`removed the namespaces and links of ${stale.length} earlier run(s) that ended without teardown: ${stale.join(", ")}`);
  const net: Network = createNetwork();
  let tornDown = false;
  // A crash or an early exit must not leave processes or links behind ('exit' handlers may only work synchronously).
  const onExit = () => {
    if (tornDown) return;
    procs.killAllSync();
    destroyNetwork(net);
    console.error(`three hosts: stopped early; processes killed, namespaces and links deleted; run directory kept: ${dir}`);
  };
  process.on("exit", onExit);
  const teardown = async (o: { keepDir?: boolean } = {}): Promise<string[]> => {
    if (tornDown) return [];
    await procs.stopAll(10_000);
    const problems = destroyNetwork(net);
    tornDown = true;
    process.off("exit", onExit);
    if (!opts.keep && !o.keepDir) rmSync(dir, { recursive: true, force: true });
    else log(`run directory kept: ${dir} (logs in ${join(dir, "logs")})`);
    return problems;
  };
  log(`network ${net.subnet} on bridge ${net.bridge}: ${Object.values(net.hosts).map((h) => `${h.name}=${h.address} (netns ${h.ns})`).join(", ")}; run directory ${dir}`);

  try {
    const consul = await startConsulHosts(net, procs, join(dir, "consul"));
    log("consul: server on host1, clients on host2 and host3, all three alive");
    const ca = await startCaHost(net, procs, dir, BUN);
    log(`ca: ${ca.url}, root ${ca.fingerprint}`);
    const meshFile = writeMeshFile(dir, net);
    writePolicyFile(dir, net); // for trying the deny policy by hand: meshctl apply -f mesh-deny-web.yaml
    const applied = await ca.meshctl(["apply", "-f", meshFile, "--consul", "http://127.0.0.1:8500"]);
    if (applied.code !== 0) throw new Error(`meshctl apply failed (${applied.code}): ${applied.out}${applied.err}`);
    const env: MemberEnv = { net, procs, ca, dir, bun: BUN, certTtl: opts.certTtl ?? "30s" };
    const gateway = await startGateway(env);
    const sidecars = new Map<string, RunningSidecar>();
    for (const m of await Promise.all(TOPOLOGY.map((spec) => startMember(env, spec)))) sidecars.set(m.spec.instance, m);
    for (const service of ["echo", "web"] as const) {
      const want = TOPOLOGY.filter((s) => s.service === service).map((s) => s.instance);
      await waitForPassing(net, service, (ids) => want.every((id) => ids.includes(id)));
    }
    const gatewayRef: AdminRef = { name: "gateway", host: "host1", adminPort: GATEWAY_ADMIN_PORT };
    // Load starts only once every caller knows every instance it calls: the gateway (echo, web), web's sidecars (echo).
    const instances = (service: string) => TOPOLOGY.filter((s) => s.service === service).map((s) => s.instance);
    const routes: Array<[AdminRef, string]> = [[gatewayRef, "echo"], [gatewayRef, "web"],
      ...TOPOLOGY.filter((s) => s.service === "web").map((s): [AdminRef, string] => [{ name: s.instance, host: s.host, adminPort: s.adminPort }, "echo"])];
    for (const [caller, service] of routes) {
      await waitFor(`${caller.name} routes ${service} to ${instances(service).join(", ")}`, async () => {
        const ids = await routedEndpoints(net, caller, service);
        return instances(service).every((id) => ids.includes(id));
      });
    }
    log(`members: gateway on host1, ${[...sidecars.values()].map((s) => `${s.spec.instance}@${s.spec.host}`).join(", ")}; all passing in consul`);
    return {
      ...env, consul, gateway, sidecars, meshFile, log,
      gatewayUrl: `http://${net.hosts.host1.address}:${GATEWAY_PORT}`,
      admins: () => [gatewayRef, ...[...sidecars.values()].map((s) => ({ name: s.spec.instance, host: s.spec.host, adminPort: s.spec.adminPort }))],
      teardown,
    };
  } catch (err) {
    const problems = await teardown({ keepDir: true });
    if (problems.length > 0) log(`teardown problems: ${problems.join("; ")}`);
    throw err;
  }
}
