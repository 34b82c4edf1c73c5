// A/B of one or more mesh scenarios between this checkout and another (`--baseline DIR`), in the same interleaved
// rounds: on this machine whole runs drift by ±20 %, so before/after from separate runs can't show a 5 % change.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { SCENARIOS, type ScenarioName } from "./lib/args.ts";
import { detectPinning, probe, startEnv } from "./lib/harness.ts";
import { cpuMs } from "./lib/procstat.ts";
import { ProcessSet } from "./lib/proc.ts";
import { SETUPS, type Target } from "./lib/scenarios.ts";
import { median } from "./lib/stats.ts";
import { runWrk } from "./lib/wrk.ts";
import { answerHelpOrVersion, exitUsage, valueFlagsOf } from "../member/cli.ts";

const USAGE = `usage: bun run bench/ab.ts --baseline DIR [--only sidecar-pair,gateway] [--rounds 8] [--seconds 3]
  runs each scenario from DIR (another checkout, e.g. a git worktree of the commit before) and from this checkout,
  alternating A and B every round under the same wrk load (c=64), and prints CPU-ms per 1000 requests and req/s
  -h, --help | --version   print this help / the vm-mesh and runtime versions, exit 0
example:
  git worktree add /tmp/before HEAD~1 && ln -s "$PWD/node_modules" /tmp/before/ && bun run bench/ab.ts --baseline /tmp/before
exit codes: 0 ok, 1 the run failed or wrk is missing, 2 usage error`;
const OPTIONS = { baseline: { type: "string" }, only: { type: "string" }, rounds: { type: "string" }, seconds: { type: "string" }, help: { type: "boolean", short: "h" }, version: { type: "boolean" } } as const;
answerHelpOrVersion(process.argv.slice(2), USAGE, valueFlagsOf(OPTIONS));
let values: ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; strict: true }>>["values"];
try {
  ({ values } = parseArgs({ args: process.argv.slice(2), options: OPTIONS, strict: true }));
  if (values.baseline === undefined) throw new Error("--baseline DIR is required");
} catch (err) {
  exitUsage("ab", err, USAGE);
}
const names = (values.only ?? "sidecar-pair").split(",") as ScenarioName[];
const unknown = names.filter((n) => !SCENARIOS.includes(n) || ["direct", "bun-bare", "nginx", "consul-pair"].includes(n));
if (unknown.length > 0) exitUsage("ab", new Error(`not a mesh scenario: ${unknown.join(", ")}`), USAGE);
if (!Bun.which("wrk")) {
  console.error("wrk not found: install it with 'apt-get install wrk'");
  process.exit(1);
}
const rounds = Number(values.rounds ?? 8);
const seconds = Number(values.seconds ?? 3);
const baseline = resolve(values.baseline!);

const pin = detectPinning();
console.log(pin.note);
const tmp = mkdtempSync(join(tmpdir(), "mesh-ab-"));
const set = new ProcessSet(tmp);
/** One process set per side and scenario (their logs are named by process). */
const sets: ProcessSet[] = [set];
const stopAll = (): Promise<unknown> => Promise.all(sets.map((s) => s.stopAll()));
let code = 0;
process.on("SIGINT", () => void stopAll().then(() => process.exit(130)));

type Side = { label: string; name: ScenarioName; t: Target; cpu: number[]; rps: number[] };

async function measure(s: Side): Promise<void> {
  const pids = [...s.t.proxies.values()].map((m) => m.pid);
  const before = pids.reduce((a, p) => a + cpuMs(p), 0);
  const r = await runWrk({ url: s.t.url, host: s.t.host, connections: 64, seconds, pin: pin.pinLoad });
  const after = pids.reduce((a, p) => a + cpuMs(p), 0);
  if (r.non2xx > 0 || r.socketErrors > 0 || r.requests === 0) throw new Error(`${s.label} ${s.name}: ${r.non2xx} non-2xx, ${r.socketErrors} socket errors`);
  s.cpu.push(((after - before) / r.requests) * 1000);
  s.rps.push(r.rps);
}

try {
  const env = await startEnv(set, tmp, pin);
  const sides: Side[] = [];
  for (const name of names) {
    for (const [label, repo] of [["A (baseline)", baseline], ["B (this)", env.repo]] as const) {
      // A directory per side: configs are written by scenario name, and members watch their config file.
      const dir = join(tmp, `${label[0]}-${name}`);
      mkdirSync(dir, { recursive: true });
      const own = new ProcessSet(dir);
      sets.push(own);
      const t = await SETUPS[name]({ ...env, repo, tmp: dir, set: own });
      await probe(name, t);
      await runWrk({ url: t.url, host: t.host, connections: 64, seconds: 1, pin: pin.pinLoad });
      sides.push({ label, name, t, cpu: [], rps: [] });
    }
  }
  for (let round = 1; round <= rounds; round++) {
    // Alternate which side goes first, so a drift within a round favours neither.
    const order = round % 2 === 1 ? sides : [...sides].reverse();
    for (const s of order) await measure(s);
    console.log(`round ${round}/${rounds}: ` + sides.map((s) => `${s.name} ${s.label[0]} ${s.cpu.at(-1)!.toFixed(1)} ms/1k`).join(", "));
  }
  const w = Math.max(8, ...names.map((n) => n.length));
  console.log(`\n${"scenario".padEnd(w)} side           CPU-ms/1k median (min)   req/s median   B/A CPU   B/A req/s   B/A CPU paired (range)`);
  for (const name of names) {
    const [a, b] = sides.filter((s) => s.name === name) as [Side, Side];
    for (const s of [a, b]) {
      // Paired: each round's B over the same round's A, so drift across rounds (the VM's neighbours) cancels out.
      const paired = b.cpu.map((x, i) => x / a.cpu[i]!);
      const spread = `${median(paired).toFixed(3)} (${Math.min(...paired).toFixed(2)}–${Math.max(...paired).toFixed(2)})`;
      const ratios = s === b ? `${(median(b.cpu) / median(a.cpu)).toFixed(3)}     ${(median(b.rps) / median(a.rps)).toFixed(3)}       ${spread}` : "";
      console.log(`${name.padEnd(w)} ${s.label.padEnd(14)} ${median(s.cpu).toFixed(1).padStart(8)} (${Math.min(...s.cpu).toFixed(1)})${"".padEnd(8)} ${median(s.rps).toFixed(0).padStart(8)}       ${ratios}`);
    }
  }
} catch (e) {
  console.error(e);
  code = 1;
} finally {
  await stopAll();
  if (code === 0) rmSync(tmp, { recursive: true, force: true });
  else console.error(`process logs kept in ${tmp}`);
}
process.exit(code);
