// `npm run demo`: the whole mesh on one machine from deploy/examples/demo.yaml — CA, gateway, echo v1/v2, web,
// each app behind its own sidecar, all mTLS; --observe adds Prometheus, --otlp URL sends traces. Ctrl-C stops it all.
import { parseArgs } from "node:util";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseMeshConfig } from "../shared/config/parse.ts";
import { formatIssue } from "../shared/config/issues.ts";
import { ProcessGroup, BUN } from "./lib/process-group.ts";
import { demoPlan } from "./lib/demo-plan.ts";
import { startConsul, type ConsulAgent } from "./lib/consul-agent.ts";
import { consulClient } from "../member/consul/client.ts";
import { caServeCommand, devCa, initCa } from "./lib/dev-ca.ts";
import { startDemoPrometheus } from "./lib/demo-observe.ts";
import type { PrometheusServer } from "./lib/prometheus.ts";
import { answerHelpOrVersion, exitUsage, valueFlagsOf } from "../member/cli.ts";

async function consulVersion(addr: string): Promise<string> {
  const self = (await consulClient(addr).agent.self()) as { Config?: { Version?: string } };
  return self.Config?.Version ?? "?";
}

const ROOT = resolve(import.meta.dir, "..");

const USAGE = `usage: npm run demo -- [--config FILE] [--log-dir DIR] [--consul] [--observe] [--otlp URL]
  the whole mesh on one machine: CA, gateway, echo v1/v2 and web, each app behind its own sidecar, all mTLS
  --config FILE   the mesh to run (default deploy/examples/demo.yaml)
  --log-dir DIR   one log per process (default .mesh/demo-logs)
  --consul        start a local Consul dev agent: config in KV (loaded with meshctl), members registered there
  --observe       also start Prometheus scraping every member (needs prometheus on PATH)
  --otlp URL      every member sends its spans there (OTLP/HTTP, e.g. http://127.0.0.1:4318/v1/traces)
  -h, --help | --version   print this help / the vm-mesh and runtime versions, exit 0
example:
  npm run demo -- --consul --observe
exit codes: 0 stopped with Ctrl-C, 1 the config is invalid or a process failed to start, 2 usage error`;
const OPTIONS = { config: { type: "string" }, "log-dir": { type: "string" }, consul: { type: "boolean" }, observe: { type: "boolean" }, otlp: { type: "string" }, help: { type: "boolean", short: "h" }, version: { type: "boolean" } } as const;

function parse() {
  // Before anything starts: asking for help must never bring a mesh up.
  answerHelpOrVersion(process.argv.slice(2), USAGE, valueFlagsOf(OPTIONS));
  try {
    return parseArgs({ args: process.argv.slice(2), options: OPTIONS, strict: true }).values;
  } catch (err) {
    exitUsage("demo", err, USAGE);
  }
}

async function main(): Promise<void> {
  const values = parse();
  // Every member exports its spans there (OTLP/HTTP, e.g. http://127.0.0.1:4318/v1/traces); sampling is in the config.
  const otlp = values.otlp === undefined ? [] : ["--otlp-endpoint", values.otlp];
  const consulMode = values.consul === true;
  const configPath = resolve(values.config ?? join(ROOT, "deploy/examples/demo.yaml"));
  const parsed = await parseMeshConfig(await Bun.file(configPath).text(), configPath);
  if (!parsed.ok) {
    for (const i of parsed.issues) console.error(formatIssue(i));
    process.exit(1);
  }
  const plan = demoPlan(parsed.config);
  const logDir = resolve(values["log-dir"] ?? join(ROOT, ".mesh/demo-logs"));
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });

  // The CA's state (root key included) and each member's key and leaf: fresh per run, removed on exit.
  const stateDir = mkdtempSync(join(tmpdir(), "mesh-demo-state-"));
  const group = new ProcessGroup();
  let stopping = false;
  let consul: ConsulAgent | undefined;
  let prometheus: PrometheusServer | undefined;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log("\nstopping every process the demo started...");
    await group.stopAll();
    await consul?.stop();
    await prometheus?.stop();
    rmSync(stateDir, { recursive: true, force: true });
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));

  try {
    const log = (name: string) => ({ logFile: join(logDir, `${name}.log`) });
    // As on real VMs: `ca init` (prints the root's fingerprint), `ca serve`, then one join token per member.
    const caDir = join(stateDir, "ca");
    const fingerprint = initCa(BUN, caDir, plan.trustDomain);
    const ca = devCa(caDir, fingerprint, (await group.spawn("ca", caServeCommand(BUN, caDir), log("ca"))).ready);
    console.log(`ca          ${ca.url}  root ${fingerprint}  (state ${caDir}; try: npm run meshctl -- token list --ca-state ${caDir})`);
    // Consul mode: a local dev agent, the demo config loaded into KV with meshctl, every instance registered.
    const source: string[] = consulMode ? [] : ["--config", configPath];
    if (consulMode) {
      consul = await startConsul();
      source.push("--consul", consul.httpAddr);
      console.log(`consul      ${consul.httpAddr}  (Consul ${await consulVersion(consul.httpAddr)}; config in KV under mesh/)`);
      const apply = Bun.spawnSync([BUN, join(ROOT, "cli/meshctl.ts"), "apply", "-f", configPath, "--consul", consul.httpAddr]);
      if (apply.exitCode !== 0) throw new Error(`meshctl apply failed: ${apply.stderr.toString()}`);
    }
    for (const i of plan.instances) {
      await group.spawn(`app-${i.id}`, [BUN, join(ROOT, i.app)], { ...log(`app-${i.id}`), env: i.appEnv });
      const sc = await group.spawn(
        `sidecar-${i.id}`,
        [BUN, join(ROOT, "sidecar/main.ts"), ...source, "--service", i.service, "--instance", i.id, "--app-port", String(i.appPort),
          "--inbound-port", String(i.inboundPort), "--outbound-port", String(i.outboundPort), "--admin-port", String(i.adminPort), ...(await ca.memberArgs(i.service, join(stateDir, i.id))),
          ...i.tags.flatMap((t) => ["--tag", t]), ...Object.entries(i.meta).flatMap(([k, v]) => ["--meta", `${k}=${v}`]), "--app-health-path", "/health", ...otlp,
          // With Consul the gateway's console finds each member's metrics listener in its registration (Meta.metrics_*).
          ...(consulMode ? ["--metrics-address", `127.0.0.1:${i.metricsPort}`] : [])],
        log(`sidecar-${i.id}`),
      );
      console.log(`${i.id.padEnd(11)} app :${i.appPort}  sidecar inbound(mTLS) :${i.inboundPort} outbound :${i.outboundPort} admin :${i.adminPort}  ${sc.ready.spiffeId}`);
    }
    const gwJoin = await ca.memberArgs(parsed.config.gateway?.name ?? "gateway", join(stateDir, "gateway"));
    // Without Consul the console is told where every sidecar's /metrics is (their admin listeners on this machine).
    const consoleTargets = consulMode ? [] : ["--console-targets", plan.instances.map((i) => `http://127.0.0.1:${i.adminPort}/metrics`).join(",")];
    const gw = await group.spawn("gateway", [BUN, join(ROOT, "gateway/main.ts"), ...source, ...gwJoin, "--admin-port", String(plan.gatewayAdminPort), ...consoleTargets, ...otlp], log("gateway"));
    console.log(`gateway     ${(gw.ready.listeners as string[]).join(", ")}  admin :${plan.gatewayAdminPort}  ${gw.ready.spiffeId}`);
    let observeNote = "";
    if (values.observe === true) {
      const p = await startDemoPrometheus();
      if (typeof p === "string") observeNote = `\n${p}\n`;
      else {
        prometheus = p;
        observeNote = `
Prometheus  ${p.url}  (scrapes every member's /metrics every 5 s; recording rules and alerts from deploy/prometheus/rules)
  ${p.url}/graph?g0.expr=mesh_service_side:mesh_requests:rate1m   requests/s per service and side    ${p.url}/alerts   alerts
  curl -s http://127.0.0.1:${plan.gatewayAdminPort}/metrics | grep mesh_requests_total   # one member's metrics
  Grafana: import deploy/grafana/*.json and point its Prometheus data source at ${p.url} (deploy/grafana/README.md)
`;
      }
    }
    if (values.otlp !== undefined) observeNote += `\nTraces go to ${values.otlp} (sampling: tracing.sampling in ${configPath}, default 1 %).\n`;
    console.log(`${observeNote}
The mesh is up (logs in ${logDir}). Try:
  curl -s ${plan.gatewayUrl}/echo          # JSON from echo v1 (80%) or v2 (20%); caller = the gateway's SPIFFE id
  curl -s ${plan.gatewayUrl}/web           # web calls echo through its own sidecar; echo's caller = web's SPIFFE id
  for i in $(seq 100); do curl -s ${plan.gatewayUrl}/echo; echo; done | grep -o '"version":"v[12]"' | sort | uniq -c
  curl -s http://127.0.0.1:${plan.gatewayAdminPort}/config   # which config is live
Console: http://127.0.0.1:${plan.gatewayAdminPort}/console   (members, the service graph with live requests/s, errors and p99,
  certificate expiry, rejected config documents; from another machine: ssh -L ${plan.gatewayAdminPort}:127.0.0.1:${plan.gatewayAdminPort} this-vm)
${consul === undefined
  ? `Edit ${configPath} (e.g. the echo weights) and the change applies live; an invalid edit is rejected and logged.`
  : `Config lives in Consul KV (${consul.httpAddr}/v1/kv/mesh/?recurse). Flip the echo split to 50/50 live:
  CONSUL_HTTP_ADDR=${consul.httpAddr} npm run meshctl -- apply -f ${join(ROOT, "deploy/examples/echo-50-50.yaml")}
  curl -s ${consul.httpAddr}/v1/health/service/echo?passing | grep -o '"ID":"echo-v[12]"'   # registered instances`}
Ctrl-C stops everything.`);
    console.log(JSON.stringify({ msg: "ready", service: "demo", gateway: plan.gatewayUrl, consul: consul?.httpAddr, prometheus: prometheus?.url }));
  } catch (err) {
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    await stop(1);
  }
}

void main();
