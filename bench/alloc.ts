// The objects each proxy of a scenario allocates per request, by JSC type: wrk's request on kept-alive
// connections between two probe signals (lib/alloc-probe.ts). Counts, not times, so a change reads the same on a noisy VM.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseToolArgs, scenarioArg } from "./lib/tool-args.ts";
import { detectPinning, probe, startEnv } from "./lib/harness.ts";
import { ProcessSet } from "./lib/proc.ts";
import { SETUPS, type Target } from "./lib/scenarios.ts";
import { provisionBinary } from "./lib/provision.ts";
import { runWrk } from "./lib/wrk.ts";
import { lastWindow, renderPerRequest, type AllocWindow } from "./lib/alloc-count.ts";
import { exitUsage } from "../member/cli.ts";

const USAGE = `usage: bun run bench/alloc.ts [--scenario sidecar-pair] [--requests 400] [--access-log on|off]
  the objects each proxy allocates per request, by JSC type (strings, arrays, objects, closures...); wrk's request
  ("GET / HTTP/1.1" and Host) on 8 kept-alive connections, after 3 s of wrk at c=64 as in the bench (without wrk,
  20,000 of those requests). Counts move a few per cent between starts with what the JIT has compiled: run it twice.
  A window in which a collection ran is measured again (up to 6 tries): its counts would miss what it freed. What a
  process allocates with no request (timers, metrics), measured in a window of its own first, is taken off at its
  rate (a window of 1 s always met the runtime's idle collection; 0.3 s windows rarely do).
  -h, --help | --version   print this help / the vm-mesh and runtime versions, exit 0
example:
  bun run bench/alloc.ts --scenario bun-l7-pair
exit codes: 0 ok, 1 the run failed, 2 usage error`;
const OPTIONS = { scenario: { type: "string" }, requests: { type: "string" }, "access-log": { type: "string" }, help: { type: "boolean", short: "h" }, version: { type: "boolean" } } as const;
const values = parseToolArgs("alloc", OPTIONS, USAGE);
const scenario = scenarioArg("alloc", values.scenario, ["direct", "nginx", "consul-pair"], USAGE);
const CONNECTIONS = 8;
const requests = Number(values.requests ?? 400);
// Below the ~5.7 MB JSC lets a cycle allocate before it collects, at the ~7 KB per request a sidecar allocates.
if (!Number.isInteger(requests) || requests < CONNECTIONS || requests > 2000) exitUsage("alloc", new Error(`--requests needs an integer from ${CONNECTIONS} to 2000`), USAGE);

/** `n` requests, wrk's shape, one in flight per connection; resolves with how many were answered. */
async function send(t: Target, n: number): Promise<number> {
  const u = new URL(t.url);
  const req = Buffer.from(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${t.host ?? u.host}\r\n\r\n`, "latin1");
  let answered = 0;
  const one = (count: number): Promise<void> =>
    new Promise((resolve, reject) => {
      let left = count;
      let buf = "";
      Bun.connect({
        hostname: u.hostname,
        port: Number(u.port),
        socket: {
          open: (s) => void s.write(req),
          data(s, d) {
            buf += d.toString("latin1");
            const end = buf.indexOf("\r\n\r\n");
            const len = /\r\ncontent-length: *(\d+)/i.exec(buf.slice(0, end));
            if (end < 0 || len === null || buf.length < end + 4 + Number(len[1])) return;
            buf = "";
            answered++;
            if (--left > 0) s.write(req);
            else s.end();
          },
          close: () => resolve(),
          error: (_s, e) => reject(e),
        },
      }).catch(reject);
    });
  await Promise.all(Array.from({ length: CONNECTIONS }, (_, i) => one(Math.floor(n / CONNECTIONS) + (i < n % CONNECTIONS ? 1 : 0))));
  return answered;
}

const pin = detectPinning();
const tmp = mkdtempSync(join(tmpdir(), "mesh-alloc-"));
const set = new ProcessSet(tmp);
let code = 0;
process.on("SIGINT", () => void set.stopAll().then(() => process.exit(130)));
try {
  const probeFile = join(import.meta.dir, "lib/alloc-probe.ts");
  const env = await startEnv(set, tmp, pin, { accessLog: values["access-log"] !== "off", runtimeFlags: () => ["--preload", probeFile] });
  const target = await SETUPS[scenario](env);
  await probe(scenario, target);
  // Warm: the JIT's tiers move and remove allocations, so counts from a cold process would be another program's.
  // wrk as the bench finds it (PATH, cache, or fetched from Debian); without one, our own requests.
  const wrk = await provisionBinary(join(import.meta.dir, ".."), "wrk").catch(() => undefined);
  if (wrk !== undefined) await runWrk({ bin: wrk, url: target.url, host: target.host, connections: 64, seconds: 3, pin: pin.pinLoad });
  else {
    console.log("wrk not found: warming up with 20,000 requests of our own (counts can differ from a wrk-warmed run)");
    for (let i = 0; i < 10; i++) await send(target, 2000);
  }
  await send(target, requests); // the connections' own first-use work happens here, not in the window
  // A window with no request first (as long as a loaded one, less the sending): what each process allocates on its own
  // (timers, metrics), per millisecond.
  const idle = new Map<string, AllocWindow>();
  const done = new Map<string, string>();
  for (let attempt = 1; attempt <= 6 && done.size < target.proxies.size; attempt++) {
    for (const n of [0, requests]) {
      if (n === 0 && idle.size === target.proxies.size) continue;
      for (const m of target.proxies.values()) process.kill(m.pid, "SIGUSR2");
      await Bun.sleep(300);
      const answered = n === 0 ? 0 : await send(target, n);
      for (const m of target.proxies.values()) process.kill(m.pid, "SIGUSR2");
      await Bun.sleep(300);
      for (const [name, m] of target.proxies) {
        const w = lastWindow(readFileSync(m.errPath, "utf8"));
        if (w === undefined || w.collected) continue;
        if (n === 0) idle.set(name, w);
        else if (!done.has(name) && idle.has(name)) done.set(name, renderPerRequest(name, w, answered, idle.get(name)));
      }
    }
  }
  console.log(`${scenario}: ${requests} requests on ${CONNECTIONS} connections`);
  for (const name of target.proxies.keys()) console.log(done.get(name) ?? `${name}: a collection ran in every window; try fewer --requests`);
} catch (e) {
  code = 1;
  console.error(e);
} finally {
  await set.stopAll(10_000);
  if (code === 0) rmSync(tmp, { recursive: true, force: true });
  else console.error(`process logs kept in ${tmp}`);
}
process.exit(code);
