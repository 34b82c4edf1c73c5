// `npm run demo`: the whole mesh on one machine from deploy/examples/demo.yaml — CA, gateway, echo v1/v2, web,
// each app behind its own sidecar, all mTLS. Ctrl-C stops every process it started.
import { parseArgs } from "node:util";
import { mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseMeshConfig } from "../shared/config/parse.ts";
import { formatIssue } from "../shared/config/issues.ts";
import { ProcessGroup, BUN } from "./lib/process-group.ts";
import { demoPlan } from "./lib/demo-plan.ts";

const ROOT = resolve(import.meta.dir, "..");

async function main(): Promise<void> {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { config: { type: "string" }, "log-dir": { type: "string" } } });
  const configPath = resolve(values.config ?? join(ROOT, "deploy/examples/demo.yaml"));
  const parsed = parseMeshConfig(await Bun.file(configPath).text(), configPath);
  if (!parsed.ok) {
    for (const i of parsed.issues) console.error(formatIssue(i));
    process.exit(1);
  }
  const plan = demoPlan(parsed.config);
  const logDir = resolve(values["log-dir"] ?? join(ROOT, ".mesh/demo-logs"));
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });

  const group = new ProcessGroup();
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log("\nstopping every process the demo started...");
    await group.stopAll();
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));

  try {
    const log = (name: string) => ({ logFile: join(logDir, `${name}.log`) });
    const ca = await group.spawn("ca", [BUN, join(ROOT, "ca/main.ts"), "--port", "0", "--trust-domain", plan.trustDomain], log("ca"));
    const caUrl = `http://127.0.0.1:${ca.ready.port}`;
    console.log(`ca          ${caUrl}`);
    for (const i of plan.instances) {
      await group.spawn(`app-${i.id}`, [BUN, join(ROOT, i.app)], { ...log(`app-${i.id}`), env: i.appEnv });
      const sc = await group.spawn(
        `sidecar-${i.id}`,
        [BUN, join(ROOT, "sidecar/main.ts"), "--config", configPath, "--service", i.service, "--instance", i.id, "--app-port", String(i.appPort),
          "--inbound-port", String(i.inboundPort), "--outbound-port", String(i.outboundPort), "--admin-port", String(i.adminPort), "--ca", caUrl],
        log(`sidecar-${i.id}`),
      );
      console.log(`${i.id.padEnd(11)} app :${i.appPort}  sidecar inbound(mTLS) :${i.inboundPort} outbound :${i.outboundPort} admin :${i.adminPort}  ${sc.ready.spiffeId}`);
    }
    const gw = await group.spawn("gateway", [BUN, join(ROOT, "gateway/main.ts"), "--config", configPath, "--ca", caUrl, "--admin-port", String(plan.gatewayAdminPort)], log("gateway"));
    console.log(`gateway     ${(gw.ready.listeners as string[]).join(", ")}  admin :${plan.gatewayAdminPort}  ${gw.ready.spiffeId}`);
    console.log(`
The mesh is up (logs in ${logDir}). Try:
  curl -s ${plan.gatewayUrl}/echo          # JSON from echo v1 (80%) or v2 (20%); caller = the gateway's SPIFFE id
  curl -s ${plan.gatewayUrl}/web           # web calls echo through its own sidecar; echo's caller = web's SPIFFE id
  for i in $(seq 100); do curl -s ${plan.gatewayUrl}/echo; echo; done | grep -o '"version":"v[12]"' | sort | uniq -c
  curl -s http://127.0.0.1:${plan.gatewayAdminPort}/config   # which config is live
Edit ${configPath} (e.g. the echo weights) and the change applies live; an invalid edit is rejected and logged.
Ctrl-C stops everything.`);
    console.log(JSON.stringify({ msg: "ready", service: "demo", gateway: plan.gatewayUrl }));
  } catch (err) {
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    await stop(1);
  }
}

void main();
