// Consul propagation numbers (a bench, not a test): config — from `meshctl apply` returning until all 10 sidecars
// have applied it (admin /config version), p50/p99 over 20 changes; endpoints — from a check turning critical
// until outbound peers stop sending to that instance, and how many requests failed meanwhile (retries on).
import { join, resolve } from "node:path";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { stringify } from "yaml";
import { caServeCommand, devCa, initCa } from "../deploy/lib/dev-ca.ts";
import { ProcessGroup, BUN } from "../deploy/lib/process-group.ts";
import { startConsul } from "../deploy/lib/consul-agent.ts";
import { freePort } from "../deploy/lib/ports.ts";
import { consulClient } from "../member/consul/client.ts";
import { answerHelpOrVersion, exitUsage } from "../member/cli.ts";

const USAGE = `usage: bun run bench/consul-propagation.ts [--quick]   (npm run bench:consul -- ...)
  starts a local Consul dev agent, a CA and ${10 + 2} sidecars; measures config propagation (meshctl apply until every
  sidecar applied it) and endpoint propagation (a check turning critical until peers stop sending there)
  --quick   5 config changes instead of 20
  -h, --help | --version   print this help / the vm-mesh and runtime versions, exit 0
example:
  npm run bench:consul -- --quick
exit codes: 0 ok, 1 the run failed, 2 usage error`;
// Answered before Consul or any sidecar starts.
answerHelpOrVersion(process.argv.slice(2), USAGE);
for (const a of process.argv.slice(2)) if (a !== "--quick") exitUsage("bench:consul", `unknown argument "${a}"`, USAGE);

const ROOT = resolve(import.meta.dir, "..");
const SIDECARS = 10;
const CHANGES = Number(process.argv.includes("--quick") ? 5 : 20);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;

const group = new ProcessGroup();
const consul = await startConsul();
const dir = mkdtempSync(join(tmpdir(), "mesh-prop-"));
try {
  // The CA as an operator runs it: init a state dir, serve, one join token per member.
  const caDir = join(dir, "ca");
  const ca = devCa(caDir, initCa(BUN, caDir, "mesh.local"), (await group.spawn("ca", caServeCommand(BUN, caDir))).ready);
  const hits = { a: 0, b: 0 };
  const app = (name: "a" | "b") => Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => (hits[name]++, Response.json({ app: name })) });
  const apps = { a: app("a"), b: app("b") };
  const mesh = (timeout: number) => ({
    services: { upstream: { policy: { timeout: `${timeout}ms`, retries: { attempts: 2, on: ["connect-failure", "reset", 503] } } }, client: {} },
  });
  const file = join(dir, "mesh.yaml");
  const apply = (timeout: number) => {
    writeFileSync(file, stringify(mesh(timeout)));
    const r = Bun.spawnSync([BUN, join(ROOT, "cli/meshctl.ts"), "apply", "-f", file, "--consul", consul.httpAddr]);
    if (r.exitCode !== 0) throw new Error(r.stderr.toString());
  };
  apply(5000);
  const common = ["--consul", consul.httpAddr, "--access-log", "off", "--drain-delay", "200ms"];
  for (const name of ["a", "b"] as const) {
    await group.spawn(`upstream-${name}`, [BUN, join(ROOT, "sidecar/main.ts"), ...common, ...(await ca.memberArgs("upstream", join(dir, "state", `upstream-${name}`))), "--service", "upstream", "--instance", `upstream-${name}`, "--app-port", String(apps[name].port),
      "--inbound-port", String(await freePort()), "--outbound-port", String(await freePort()), "--admin-port", String(await freePort())]);
  }
  const clients: Array<{ outbound: number; admin: number }> = [];
  for (let i = 0; i < SIDECARS; i++) {
    const c = { outbound: await freePort(), admin: await freePort() };
    await group.spawn(`client-${i}`, [BUN, join(ROOT, "sidecar/main.ts"), ...common, ...(await ca.memberArgs("client", join(dir, "state", `client-${i}`))), "--service", "client", "--instance", `client-${i}`, "--app-port", "1",
      "--inbound-port", String(await freePort()), "--outbound-port", String(c.outbound), "--admin-port", String(c.admin)]);
    clients.push(c);
  }
  const version = async (admin: number) => ((await (await fetch(`http://127.0.0.1:${admin}/config`)).json()) as { version: number }).version;

  // Config propagation.
  const config: number[] = [];
  for (let n = 0; n < CHANGES; n++) {
    const before = await Promise.all(clients.map((c) => version(c.admin)));
    apply(4000 + n);
    const t0 = performance.now();
    for (;;) {
      const now = await Promise.all(clients.map((c) => version(c.admin)));
      if (now.every((v, i) => v > before[i]!)) break;
      await Bun.sleep(5);
    }
    config.push(performance.now() - t0);
  }
  console.log(`config propagation to ${SIDECARS} sidecars over ${CHANGES} changes: p50 ${pct(config, 50).toFixed(0)} ms, p99 ${pct(config, 99).toFixed(0)} ms (target p99 <= 1000 ms)`);

  // Endpoint propagation under load: fail instance a's check, see when clients stop reaching it.
  let stop = false;
  let failed = 0;
  let ok = 0;
  const load = async (c: { outbound: number }) => {
    while (!stop) {
      const r = await fetch(`http://127.0.0.1:${c.outbound}/`, { headers: { host: "upstream" } }).catch(() => undefined);
      if (r?.status === 200) ok++;
      else failed++;
      await r?.arrayBuffer();
    }
  };
  const workers = clients.map(load);
  await Bun.sleep(500);
  // The ready check is HTTP-based: Consul refuses check/fail for it (TTL checks only; the old plain-fetch call here
  // was silently refused). Maintenance mode turns the instance critical and holds it out, like a real outage.
  await consulClient(consul.httpAddr).agent.service.maintenance({ id: "upstream-a", enable: true, reason: "bench" });
  const t0 = performance.now();
  let last = hits.a;
  let quietSince = performance.now();
  while (performance.now() - quietSince < 300) {
    await Bun.sleep(2);
    if (hits.a !== last) {
      last = hits.a;
      quietSince = performance.now();
    }
  }
  const endpoint = quietSince - t0;
  stop = true;
  await Promise.all(workers);
  console.log(`endpoint propagation (instance critical -> last request it received): ${Math.max(0, endpoint).toFixed(0)} ms (target <= 1000 ms); requests ok ${ok}, failed ${failed} (target 0)`);
  apps.a.stop(true);
  apps.b.stop(true);
} finally {
  await group.stopAll();
  await consul.stop();
}
