// `bun run deploy/multihost/run.ts`: the three-hosts proof as a script (root, iproute2, Consul from provision.sh):
// builds the mesh across three network namespaces, runs every step under load, prints a table, tears it all down.
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { netnsUnavailable } from "./netns.ts";
import { runScenario } from "./scenario.ts";
import { seconds } from "./step.ts";
import { failureSamples, resultTable } from "./report.ts";
import type { Cluster } from "./cluster.ts";
import { GATEWAY_ADMIN_PORT } from "./members.ts";

const USAGE = `usage: bun run deploy/multihost/run.ts [--cert-ttl 30s] [--rate 50] [--host3-death kill|unplug] [--skip STEP]... [--keep] [--hold] [--json]
  --cert-ttl      leaf lifetime every member asks for (short: renewals happen during the run)
  --rate          requests per second per load loop (4 loops); 0 = as fast as they go
  --host3-death   kill: SIGKILL host3's processes (peers get refused connections); unplug: that, and its link cut
  --skip          leave a step out (baseline, ca-restart, root-rotation, new-member, rolling-restart, authorization, host3-kill)
  --keep          keep the run directory (logs, state, config) even when every step passed
  --hold          after the last step, keep the mesh running until Ctrl-C (prints how to reach it)
  MULTIHOST_ACCESS_LOG=on turns the members' access logs on (logs/<member>.log in the run directory)`;

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    "cert-ttl": { type: "string" }, rate: { type: "string" }, "host3-death": { type: "string" }, skip: { type: "string", multiple: true },
    keep: { type: "boolean" }, hold: { type: "boolean" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const why = netnsUnavailable();
if (why !== undefined) {
  console.error(`three hosts: cannot run here: ${why}`);
  process.exit(2);
}
const death = values["host3-death"] ?? "kill";
if (death !== "kill" && death !== "unplug") {
  console.error(`--host3-death: "${death}" is not kill or unplug\n${USAGE}`);
  process.exit(2);
}

const MESHCTL = resolve(import.meta.dir, "../../cli/meshctl.ts");
const started = performance.now();
const stamp = () => `[${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s]`;
// Ctrl-C: the 'exit' hook of the cluster kills every process by PID and deletes the namespaces and links.
let holding: (() => void) | undefined;
process.on("SIGINT", () => {
  const resume = holding;
  holding = undefined;
  if (resume !== undefined) resume(); // --hold: Ctrl-C ends the hold, then the usual teardown
  else process.exit(130);
});
process.on("SIGTERM", () => process.exit(143));

const outcome = await runScenario({
  certTtl: values["cert-ttl"] ?? "30s",
  ratePerLoop: values.rate === undefined ? 50 : Number(values.rate),
  host3Death: death,
  skip: values.skip ?? [],
  keep: values.keep === true,
  log: (l) => console.error(`${stamp()} ${l}`),
  ...(values.hold ? { beforeTeardown: hold } : {}),
  onStep: (r) => console.error(`${stamp()} step ${r.step}: ${r.skipped !== undefined ? `skipped (${r.skipped})` : `${r.sent} sent, ${r.failed} failed`}`),
});

if (values.json) console.log(JSON.stringify({ ...outcome, error: outcome.error?.message, results: outcome.results.map(({ load: _l, ...r }) => r) }, null, 2));
else console.log(resultTable(outcome.results));
console.log(`setup ${seconds(outcome.setupMs)}, total ${seconds(performance.now() - started)}`);
for (const line of failureSamples(outcome.results)) console.log(`  ${line}`);
if (outcome.teardownProblems.length > 0) console.log(`teardown problems: ${outcome.teardownProblems.join("; ")}`);
if (outcome.error !== undefined) console.error(`FAILED: ${outcome.error.message}`);
const bad = outcome.error !== undefined || outcome.results.some((r) => r.failed > 0);
process.exit(bad ? 1 : 0);


async function hold(c: Cluster): Promise<void> {
  const h1 = c.net.hosts.host1;
  console.error([
    `${stamp()} holding: the mesh keeps running until Ctrl-C. For example:`,
    `  curl ${c.gatewayUrl}/echo ; curl ${c.gatewayUrl}/web`,
    `  ip netns exec ${h1.ns} curl -s http://127.0.0.1:8500/v1/health/service/echo?passing`,
    `  ip netns exec ${h1.ns} curl -s http://127.0.0.1:${GATEWAY_ADMIN_PORT}/clusters`,
    `  ip netns exec ${h1.ns} ${c.bun} ${MESHCTL} status --consul http://127.0.0.1:8500`,
    `  ip netns exec ${h1.ns} ${c.bun} ${MESHCTL} ca status --ca-state ${c.ca.stateDir}`,
    `  logs: ${c.dir}/logs`,
  ].join("\n"));
  await new Promise<void>((resolve) => (holding = resolve));
}
