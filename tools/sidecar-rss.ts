// Measures the memory of real sidecars started the way the tests and the bench start them (dev CA, join token, hop
// or pair config): RSS idle, peak and after a short wrk load, plus the process's own memoryUsage()/heapStats() probe.
// Usage: bun run tools/sidecar-rss.ts [--rounds 3] [--scenario hop|pair] [--routes N (hop only)] [--idle-ms 5000] [--load-s 5] [--no-load]
//        [--bun-flags "--smol"] [-- extra sidecar flags]
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import { BUN, ProcessGroup, type Started } from "../deploy/lib/process-group.ts";
import { freePort } from "../deploy/lib/ports.ts";
import { caServeCommand, devCa, initCa } from "../deploy/lib/dev-ca.ts";
import { hopConfig, manyRoutesHopConfig, manyRoutesPath, meshConfig, TRUST_DOMAIN, UPSTREAM_SERVICE } from "../bench/lib/mesh-config.ts";
import { median, procMemoryMb } from "./memory-stats.ts";
import { provisionBinary } from "../bench/lib/provision.ts";

const ROOT = resolve(import.meta.dir, "..");
const PROBE = join(ROOT, "tools/memory-probe.ts");
/** wrk as the bench finds it (on PATH, or fetched from Debian into .cache/wrk), looked for on first use only. */
let wrkBin: Promise<string> | undefined;

type Opts = { rounds: number; scenario: "hop" | "pair"; routes: number; idleMs: number; loadS: number; load: boolean; bunFlags: string[]; extra: string[] };

function parseArgs(argv: string[]): Opts {
  const o: Opts = { rounds: 3, scenario: "hop", routes: 0, idleMs: 5000, loadS: 5, load: true, bunFlags: [], extra: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = (): string => argv[++i] ?? "";
    if (a === "--") {
      o.extra = argv.slice(i + 1);
      break;
    } else if (a === "--rounds") o.rounds = Number(v());
    else if (a === "--scenario") o.scenario = v() === "pair" ? "pair" : "hop";
    else if (a === "--routes") o.routes = Number(v());
    else if (a === "--idle-ms") o.idleMs = Number(v());
    else if (a === "--load-s") o.loadS = Number(v());
    else if (a === "--no-load") o.load = false;
    else if (a === "--bun-flags") o.bunFlags = v().split(" ").filter((f) => f !== "");
    else throw new Error(`unknown argument ${a}`);
  }
  if (o.routes > 0 && o.scenario !== "hop") throw new Error("--routes is for --scenario hop (the pair's config has one route)");
  return o;
}

/** One probe line from the sidecar's stderr, asked for with SIGUSR2 (tools/memory-probe.ts). */
async function probe(group: ProcessGroup, s: Started): Promise<Record<string, unknown> | undefined> {
  const seen = group.output(s.pid).split("\n").filter((l) => l.includes('"probe":"memory"')).length;
  process.kill(s.pid, "SIGUSR2");
  for (let i = 0; i < 40; i++) {
    await Bun.sleep(50);
    const lines = group.output(s.pid).split("\n").filter((l) => l.includes('"probe":"memory"'));
    if (lines.length > seen) return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
  }
  return undefined;
}

async function wrk(url: string, seconds: number): Promise<number> {
  const p = Bun.spawn(["taskset", "-c", "1", await (wrkBin ??= provisionBinary(ROOT, "wrk")), "-t1", "-c64", `-d${seconds}s`, "-H", `Host: ${UPSTREAM_SERVICE}`, url], { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(p.stdout).text();
  await p.exited;
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  if (non2xx !== null) console.error(`  wrk: ${non2xx[1]} non-2xx responses`);
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
}

/** MB. idleHwm: VmHWM at idle (the peak since start, startup included); loadPeak: the highest RSS sampled under load. */
type Sample = { name: string; idleRss: number; idleAnon: number; idleHwm: number; loadRss: number; loadPeak: number; loadAnonPeak: number; settledRss: number; rps: number };

async function round(o: Opts, n: number): Promise<Sample[]> {
  const dir = mkdtempSync(join(tmpdir(), "sidecar-rss-"));
  const group = new ProcessGroup();
  try {
    const fp = initCa(BUN, join(dir, "ca"), TRUST_DOMAIN);
    const caStarted = await group.spawn("ca", ["taskset", "-c", "1", ...caServeCommand(BUN, join(dir, "ca"))]);
    const ca = devCa(join(dir, "ca"), fp, caStarted.ready);
    const up = await group.spawn("upstream", ["taskset", "-c", "1", BUN, join(ROOT, "bench/upstream.ts"), "--port", "0"]);
    const upstreamPort = up.ready.port as number;
    const start = async (name: string, service: string, cfg: unknown, inbound: number) => {
      const config = join(dir, `${name}.yaml`);
      writeFileSync(config, stringify(cfg));
      const [outbound, admin] = [await freePort(), await freePort()];
      const s = await group.spawn(name, [
        "taskset", "-c", "0", BUN, ...o.bunFlags, "--preload", PROBE, join(ROOT, "sidecar/main.ts"), "--config", config, "--service", service,
        "--app-port", String(upstreamPort), "--inbound-port", String(inbound), "--outbound-port", String(outbound), "--admin-port", String(admin),
        ...(await ca.memberArgs(service, join(dir, "state", name))), ...o.extra,
      ], { readyTimeoutMs: 60_000 });
      return { s, outbound };
    };
    const sidecars: Array<{ s: Started; outbound: number }> = [];
    // --routes N: the hop through N path-prefix routes (the bench's sidecar-hop-10k-routes config), wrk on the middle one.
    const hopCfg = o.routes > 0 ? manyRoutesHopConfig(upstreamPort, o.routes) : hopConfig(upstreamPort);
    if (o.scenario === "hop") sidecars.push(await start("hop", "client", hopCfg, await freePort()));
    else {
      const bIn = await freePort();
      sidecars.push(await start("pair-b", UPSTREAM_SERVICE, meshConfig(bIn), bIn));
      sidecars.push(await start("pair-a", "client", meshConfig(bIn), await freePort()));
    }
    await Bun.sleep(o.idleMs);
    const idle = sidecars.map((c) => procMemoryMb(c.s.pid));
    for (const c of sidecars) console.error(`  round ${n} ${c.s.name} idle probe: ${JSON.stringify(await probe(group, c.s))}`);
    let rps = 0;
    let loaded = idle;
    let settled = idle;
    if (o.load) {
      // Sampled like the bench's RssSampler (every 100 ms while wrk runs): the peak under load, not since start.
      const peaks = sidecars.map(() => 0);
      const anonPeaks = sidecars.map(() => 0);
      const sampler = setInterval(() => sidecars.forEach((c, i) => {
        const m = procMemoryMb(c.s.pid);
        peaks[i] = Math.max(peaks[i]!, m.rss);
        anonPeaks[i] = Math.max(anonPeaks[i]!, m.anon);
      }), 100);
      const path = o.scenario === "hop" && o.routes > 0 ? manyRoutesPath(o.routes) : "/";
      rps = await wrk(`http://127.0.0.1:${sidecars[sidecars.length - 1]!.outbound}${path}`, o.loadS);
      clearInterval(sampler);
      loaded = sidecars.map((c, i) => ({ rss: procMemoryMb(c.s.pid).rss, hwm: peaks[i]!, anon: anonPeaks[i]! }));
      await Bun.sleep(o.idleMs);
      settled = sidecars.map((c) => procMemoryMb(c.s.pid));
      for (const c of sidecars) console.error(`  round ${n} ${c.s.name} settled probe: ${JSON.stringify(await probe(group, c.s))}`);
    }
    return sidecars.map((c, i) => ({
      name: c.s.name, idleRss: idle[i]!.rss, idleAnon: idle[i]!.anon, idleHwm: idle[i]!.hwm, loadRss: loaded[i]!.rss, loadPeak: loaded[i]!.hwm, loadAnonPeak: loaded[i]!.anon, settledRss: settled[i]!.rss, rps,
    }));
  } finally {
    // Nothing here needs a graceful drain; a short grace keeps three rounds quick.
    await group.stopAll(1000);
    rmSync(dir, { recursive: true, force: true });
  }
}

const o = parseArgs(process.argv.slice(2));
const all: Sample[] = [];
for (let i = 1; i <= o.rounds; i++) {
  const got = await round(o, i);
  for (const s of got) console.log(`round ${i} ${s.name}: idle ${s.idleRss.toFixed(1)} MB (peak since start ${s.idleHwm.toFixed(1)}); peak under load ${s.loadPeak.toFixed(1)} MB (anon ${s.loadAnonPeak.toFixed(1)}), right after ${s.loadRss.toFixed(1)} MB, 5 s later ${s.settledRss.toFixed(1)} MB; ${Math.round(s.rps)} req/s`);
  all.push(...got);
}
const names = [...new Set(all.map((s) => s.name))];
console.log(`\nmedians of ${o.rounds} (MB; scenario ${o.scenario}${o.routes > 0 ? ` with ${o.routes} routes` : ""}${o.bunFlags.length > 0 ? `, bun ${o.bunFlags.join(" ")}` : ""}${o.extra.length > 0 ? `, flags ${o.extra.join(" ")}` : ""}):`);
console.log("| sidecar | idle RSS (anon) | peak since start, at idle (VmHWM) | peak RSS under load (100 ms samples) | peak anon under load | RSS right after load | RSS 5 s later | req/s |");
console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
for (const name of names) {
  const m = (f: (s: Sample) => number) => median(all.filter((s) => s.name === name).map(f)).toFixed(1);
  console.log(`| ${name} | ${m((s) => s.idleRss)} (${m((s) => s.idleAnon)}) | ${m((s) => s.idleHwm)} | ${m((s) => s.loadPeak)} | ${m((s) => s.loadAnonPeak)} | ${m((s) => s.loadRss)} | ${m((s) => s.settledRss)} | ${m((s) => s.rps)} |`);
}
