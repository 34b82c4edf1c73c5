// Runs wrk and parses its --latency report (req/s, percentiles, errors) into numbers.
// Parsing is separate from running so it is unit-tested against real wrk output.
import { provisionBinary } from "./provision.ts";
export type WrkResult = {
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50_us: number;
  readonly p75_us: number;
  readonly p90_us: number;
  readonly p99_us: number;
  /** Non-2xx/3xx responses: a proxy answering 502 fast must not look like a fast proxy. */
  readonly non2xx: number;
  readonly socketErrors: number;
};

const UNIT_US: Record<string, number> = { us: 1, ms: 1000, s: 1_000_000, m: 60_000_000, h: 3_600_000_000 };

function toMicros(value: string, unit: string): number {
  const f = UNIT_US[unit];
  if (f === undefined) throw new Error(`wrk: unknown latency unit ${unit}`);
  return Number(value) * f;
}

export function parseWrk(text: string): WrkResult {
  const pct = (p: number): number => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m|h)\\s*$`, "m").exec(text);
    if (!m) throw new Error(`wrk: no ${p}% percentile in output (was --latency given?)\n${text}`);
    return toMicros(m[1]!, m[2]!);
  };
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(text);
  const total = /^\s*(\d+) requests in ([\d.]+)(us|ms|s|m)/m.exec(text);
  if (!rps || !total) throw new Error(`wrk: could not parse output\n${text}`);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(text);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = sock ? sock.slice(1, 5).reduce((a, b) => a + Number(b), 0) : 0;
  return {
    requests: Number(total[1]),
    seconds: toMicros(total[2]!, total[3]!) / 1_000_000,
    rps: Number(rps[1]),
    p50_us: pct(50),
    p75_us: pct(75),
    p90_us: pct(90),
    p99_us: pct(99),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors,
  };
}

export type WrkRun = {
  /** The wrk to run: what `findWrk` answered (wrk on PATH, or the copy deploy/bench/provision-wrk.sh fetched). */
  readonly bin: string;
  readonly url: string;
  readonly connections: number;
  readonly seconds: number;
  readonly host?: string;
  /** Prefix command, e.g. ["taskset", "-c", "1"]. */
  readonly pin: readonly string[];
  /** Lets the runner kill wrk by PID on Ctrl-C. */
  readonly onSpawn?: (pid: number) => void;
};

export async function runWrk(run: WrkRun): Promise<WrkResult> {
  const cmd = [...run.pin, run.bin, "-t1", `-c${run.connections}`, `-d${run.seconds}s`, "--latency", "--timeout", "5s"];
  if (run.host) cmd.push("-H", `Host: ${run.host}`);
  cmd.push(run.url);
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
  run.onSpawn?.(proc.pid);
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`wrk exited ${code}: ${err || out}`);
  return parseWrk(out);
}

/**
 * The wrk to run, from deploy/bench/provision-wrk.sh: $WRK_BIN, wrk on PATH, or a copy fetched from Debian into
 * .cache/wrk (a fresh machine with only Node and npm has none). Exits 1 with the script's reason when there is none.
 */
export async function findWrk(repo: string): Promise<string> {
  try {
    return await provisionBinary(repo, "wrk");
  } catch (e) {
    console.error(`${(e as Error).message}; see bench/README.md`);
    process.exit(1);
  }
}
