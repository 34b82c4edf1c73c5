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
import { answerHelpOrVersion, EXIT, exitUsage, valueFlagsOf } from "../../member/cli.ts";

const USAGE = `usage: bun run deploy/multihost/run.ts [--cert-ttl 30s] [--rate 50] [--host3-death kill|unplug] [--skip STEP]... [--keep] [--hold] [--json]
  --cert-ttl      leaf lifetime every member asks for (short: renewals happen during the run)
  --rate          requests per second per load loop (4 loops); 0 = as fast as they go
  --host3-death   kill: SIGKILL host3's processes (peers get refused connections); unplug: that, and its link cut
  --skip          leave a step out (baseline, ca-restart, root-rotation, new-member, rolling-restart, authorization, host3-kill)
  --keep          keep the run directory (logs, state, config) even when every step passed
  --hold          after the last step, keep the mesh running until Ctrl-C (prints how to reach it)
  MULTIHOST_ACCESS_LOG=on turns the members' access logs on (logs/<member>.log in the run directory)
  -h, --help | --version   print this help / the vm-mesh and runtime versions, exit 0
example:
  sudo npm run three-hosts -- --rate 100 --skip root-rotation
exit codes: 0 every step passed, 1 a step failed or this host cannot run it (needs root and iproute2), 2 usage error`;

const OPTIONS = {
  "cert-ttl": { type: "string" }, rate: { type: "string" }, "host3-death": { type: "string" }, skip: { type: "string", multiple: true },
  keep: { type: "boolean" }, hold: { type: "boolean" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" }, version: { type: "boolean" },
} as const;
// Before the namespace check: help and the version need neither root nor iproute2.
answerHelpOrVersion(process.argv.slice(2), USAGE, valueFlagsOf(OPTIONS));
let values: ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS }>>["values"];
try {
  ({ values } = parseArgs({ args: process.argv.slice(2), options: OPTIONS }));
} catch (err) {
  exitUsage("three hosts", err, USAGE);
}
const why = netnsUnavailable();
if (why !== undefined) {
  // Not a usage error: the command line is fine, this host lacks what the run needs.
  console.error(`three hosts: cannot run here: ${why}`);
  process.exit(EXIT.problem);
}
const death = values["host3-death"] ?? "kill";
if (death !== "kill" && death !== "unplug") {
  exitUsage("three hosts", `--host3-death: "${death}" is not kill or unplug`, USAGE);
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
