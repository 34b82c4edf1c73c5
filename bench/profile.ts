// CPU-profiles the proxies of one scenario (default sidecar-pair) under wrk load with `bun --cpu-prof`, or with
// perf (--perf): kernel, runtime and JavaScript time of each proxy, JIT code named through JSC's jitdump; or counts
// each proxy's system calls per request (--syscalls), the peers' too.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseToolArgs, scenarioArg } from "./lib/tool-args.ts";
import { detectPinning, probe, startEnv } from "./lib/harness.ts";
import { ProcessSet } from "./lib/proc.ts";
import { SETUPS } from "./lib/scenarios.ts";
import { findWrk, runWrk } from "./lib/wrk.ts";
import { jitdumpPid, jitdumpToPerfMap } from "./lib/jitdump.ts";
import { parsePerfScript, renderSplit, splitSamples } from "./lib/perf-split.ts";
import { parsePerfStatCsv, perfEvents, renderPerRequest } from "./lib/syscall-count.ts";

const USAGE = `usage: bun run bench/profile.ts [--scenario sidecar-pair] [--seconds 10] [--connections 64] [--md] [--perf | --syscalls] [--access-log on|off]
  CPU-profiles the proxies of one scenario under wrk load (bun --cpu-prof); profiles go to bench/results/profiles/
  --md writes a grep-friendly markdown summary next to each .cpuprofile
  --perf samples with perf instead (needs perf, e.g. apt-get install linux-perf): kernel time by system call,
         runtime time outside JavaScript, JavaScript functions with their native calls; <proxy>.perf.md per proxy
  --syscalls counts each proxy's system calls per request with perf stat (a count: the same on a noisy VM); also for
         the peers (nginx, consul-pair)
  -h, --help | --version   print this help / the vm-mesh and runtime versions, exit 0
example:
  bun run bench/profile.ts --scenario gateway --seconds 5 --md
exit codes: 0 ok, 1 the run failed or wrk is missing, 2 usage error`;
const OPTIONS = { scenario: { type: "string" }, seconds: { type: "string" }, connections: { type: "string" }, md: { type: "boolean" }, perf: { type: "boolean" }, syscalls: { type: "boolean" }, "access-log": { type: "string" }, help: { type: "boolean", short: "h" }, version: { type: "boolean" } } as const;
const values = parseToolArgs("profile", OPTIONS, USAGE, (v) => {
  if (v.perf && v.syscalls) throw new Error("--perf and --syscalls are two different runs: pick one");
});
// direct has no proxy and the peers (nginx, consul-pair) are not Bun processes: nothing for --cpu-prof there.
const scenario = scenarioArg("profile", values.scenario, values.syscalls ? ["direct"] : ["direct", "nginx", "consul-pair"], USAGE);
const wrkBin = await findWrk(join(import.meta.dir, ".."));
if ((values.perf || values.syscalls) && !Bun.which("perf")) {
  console.error("perf not found: install it with 'apt-get install linux-perf' (or run without --perf/--syscalls)");
  process.exit(1);
}
const seconds = Number(values.seconds ?? 10);
const connections = Number(values.connections ?? 64);

const profilesDir = join(import.meta.dir, "results", "profiles");
const outDir = join(profilesDir, new Date().toISOString().replace(/[:.]/g, "-"));
mkdirSync(outDir, { recursive: true });
// perf data runs to tens of MB a profile: only the newest KEEP_PROFILES runs stay (their names sort by time).
const KEEP_PROFILES = 8;
for (const old of readdirSync(profilesDir).sort().slice(0, -KEEP_PROFILES)) rmSync(join(profilesDir, old), { recursive: true, force: true });
const pin = detectPinning();
console.log(pin.note);
const tmp = mkdtempSync(join(tmpdir(), "mesh-profile-"));
const set = new ProcessSet(tmp);
let code = 0;
process.on("SIGINT", () => void set.stopAll().then(() => process.exit(130)));

try {
  // Bun writes the profile when the process exits through process.exit (our proxies do so on SIGTERM).
  const flags = (name: string): string[] => {
    const dir = join(outDir, name);
    mkdirSync(dir, { recursive: true });
    return ["--cpu-prof", "--cpu-prof-dir", dir, ...(values.md ? ["--cpu-prof-md"] : [])];
  };
  const jitDir = join(outDir, "jitdump");
  if (values.perf) {
    // Every Bun process started from here writes its JIT code's names (inherited environment); perf reads them below.
    mkdirSync(jitDir, { recursive: true });
    process.env.BUN_JSC_useJITDump = "1";
    process.env.BUN_JSC_jitDumpDirectory = jitDir;
  }
  const env = await startEnv(set, tmp, pin, { runtimeFlags: values.perf || values.syscalls ? undefined : flags, accessLog: values["access-log"] !== "off" });
  const target = await SETUPS[scenario](env);
  await probe(scenario, target);
  await runWrk({ bin: wrkBin, url: target.url, host: target.host, connections, seconds: 2, pin: pin.pinLoad }); // JIT warmup, also in the profile
  const recorders = values.perf ? [...target.proxies].map(([name, m]) => ({ name, pid: m.pid, data: join(outDir, `${name}.perf.data`) })) : [];
  // -k 1: the clock JSC stamps its jitdump records with. Call chains (-g) follow JSC's frame pointers.
  const perfs = recorders.map((x) => Bun.spawn(["perf", "record", "-k", "1", "-g", "-o", x.data, "-p", String(x.pid)], { stdout: "ignore", stderr: "ignore" }));
  // perf stat counts from its start to SIGINT and prints on stderr; it is started before wrk, so the few calls in the
  // gap are counted against the requests of the run (an over-count well under 1 % at 10 s).
  const counters = values.syscalls ? [...target.proxies].map(([name, m]) => ({ name, p: Bun.spawn(["perf", "stat", "-x", ",", "-e", perfEvents(), "-p", String(m.pid)], { stdout: "ignore", stderr: "pipe" }) })) : [];
  for (const p of [...perfs, ...counters.map((c) => c.p)]) set.transient.add(p.pid);
  const r = await runWrk({ bin: wrkBin, url: target.url, host: target.host, connections, seconds, pin: pin.pinLoad });
  for (const p of [...perfs, ...counters.map((c) => c.p)]) p.kill("SIGINT");
  await Promise.all(perfs.map((p) => p.exited));
  console.log(`${scenario}: ${r.rps.toFixed(0)} req/s, p99 ${r.p99_us.toFixed(0)} µs, ${r.non2xx + r.socketErrors} failed`);
  for (const c of counters) console.log(renderPerRequest(c.name, parsePerfStatCsv(await new Response(c.p.stderr).text()), r.requests));
  for (const x of recorders) {
    // perf names JIT code from /tmp/perf-<pid>.map (its fixed place for them): written for this read, removed after.
    const dump = readdirSync(jitDir).find((f) => jitdumpPid(f) === x.pid);
    const map = `/tmp/perf-${x.pid}.map`;
    if (dump !== undefined) writeFileSync(map, jitdumpToPerfMap(new Uint8Array(readFileSync(join(jitDir, dump)))));
    const script = Bun.spawnSync(["perf", "script", "-i", x.data, "-F", "comm,tid,ip,sym,dso"], { stdout: "pipe", stderr: "ignore" });
    rmSync(map, { force: true });
    const md = renderSplit(x.name, splitSamples(parsePerfScript(script.stdout.toString())));
    writeFileSync(join(outDir, `${x.name}.perf.md`), md);
    console.log(`\n${md.split("\n").slice(0, 3).join("\n")}`);
  }
} catch (e) {
  code = 1;
  console.error(e);
} finally {
  await set.stopAll(15_000); // generous: proxies drain before exiting, and the profile is written on exit
  if (code === 0) rmSync(tmp, { recursive: true, force: true });
  else console.error(`process logs kept in ${tmp}`);
}
if (values.syscalls) {
  rmSync(outDir, { recursive: true, force: true }); // the counts are printed above; nothing was written
  process.exit(code);
}
for (const name of readdirSync(outDir, { recursive: true })) console.log(join(outDir, String(name)));
console.log(values.perf
  ? "<proxy>.perf.md: where each proxy's CPU went; `perf report -i <proxy>.perf.data` needs /tmp/perf-<pid>.map (from the jitdump) to name JIT code"
  : "open a .cpuprofile in Chrome DevTools (Performance tab) or speedscope; --md writes a grep-friendly summary next to it");
process.exit(code);
