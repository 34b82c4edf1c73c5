// A real Prometheus on a free 127.0.0.1 port with a given config (temp storage, stopped by PID), and promtool:
// for tests and the demo. Binaries come from deploy/prometheus/provision.sh (run once per process).
import type { Subprocess } from "bun";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { freePort } from "./ports.ts";
import { killOnExit, pump, release } from "./child-process.ts";

export type PrometheusBinaries = { prometheus: string; promtool: string };

export type QueryResult = { metric: Record<string, string>; value: [number, string] };

export type PrometheusServer = {
  /** http://127.0.0.1:PORT */
  url: string;
  pid: number;
  /** The folder holding prometheus.yml and the `files` given to startPrometheus (rule_files may name them relatively). */
  dir: string;
  /** Instant query through /api/v1/query; throws with Prometheus' error text when the query is refused. */
  query(expr: string): Promise<QueryResult[]>;
  /** GET a path under /api/v1/ and return its `data`. */
  api<T>(path: string): Promise<T>;
  /** Its recent output, for error messages. */
  output(): string;
  stop(): Promise<void>;
};

const PROVISION = resolve(import.meta.dir, "../prometheus/provision.sh");
const READY_TIMEOUT_MS = 20_000;
const KILL_GRACE_MS = 5_000;

let binaries: Promise<PrometheusBinaries> | undefined;

/** prometheus and promtool paths: $PROMETHEUS_BIN/$PROMTOOL_BIN, PATH, .cache/prometheus/, else Debian's package. */
export function prometheusBinaries(): Promise<PrometheusBinaries> {
  binaries ??= (async () => {
    const proc = Bun.spawn(["bash", PROVISION], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    const found = Object.fromEntries(out.trim().split("\n").map((l) => l.split("=", 2) as [string, string]));
    if (code !== 0 || found.prometheus === undefined || found.promtool === undefined) throw new Error(`provision.sh failed (${code}):\n${err}`);
    return { prometheus: found.prometheus, promtool: found.promtool };
  })();
  binaries.catch(() => (binaries = undefined)); // a failed provision may be retried by the next caller
  return binaries;
}

export type ToolRun = { code: number; stdout: string; stderr: string };

/** Runs promtool with `args` (e.g. ["check", "rules", file]) and returns its exit code and output. */
export async function promtool(args: string[], cwd?: string): Promise<ToolRun> {
  const { promtool: bin } = await prometheusBinaries();
  const proc = Bun.spawn([bin, ...args], { stdout: "pipe", stderr: "pipe", stdin: "ignore", ...(cwd === undefined ? {} : { cwd }) });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}



async function waitReady(url: string, proc: Subprocess, output: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`prometheus exited (${proc.exitCode ?? proc.signalCode}) before it was ready\n--- prometheus output ---\n${output()}`);
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await Bun.sleep(100);
  }
  throw new Error(`prometheus not ready after ${READY_TIMEOUT_MS} ms\n--- prometheus output ---\n${output()}`);
}

type ApiAnswer<T> = { status: "success" | "error"; data?: T; error?: string; errorType?: string };

/**
 * Starts prometheus with `config` (the text of prometheus.yml) on a free loopback port; `files` are written next to it
 * (e.g. { "rules/alerts.yml": text }). Storage lives in a temp folder removed by stop().
 */
export async function startPrometheus(opts: { config: string; files?: Record<string, string>; extraArgs?: string[] }): Promise<PrometheusServer> {
  const { prometheus: bin } = await prometheusBinaries();
  const dir = mkdtempSync(join(tmpdir(), "mesh-prometheus-"));
  const configFile = join(dir, "prometheus.yml");
  writeFileSync(configFile, opts.config);
  for (const [name, text] of Object.entries(opts.files ?? {})) {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const tail: string[] = [];
  const proc = Bun.spawn(
    [bin, `--config.file=${configFile}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn", ...(opts.extraArgs ?? [])],
    { stdout: "pipe", stderr: "pipe", stdin: "ignore", cwd: dir },
  );
  killOnExit(proc);
  void pump(proc.stdout as ReadableStream<Uint8Array>, tail);
  void pump(proc.stderr as ReadableStream<Uint8Array>, tail);
  const output = () => tail.join("");

  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), KILL_GRACE_MS);
      await proc.exited;
      clearTimeout(timer);
    }
    release(proc);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await waitReady(url, proc, output);
  } catch (err) {
    await stop();
    throw err;
  }

  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}/api/v1/${path}`, { signal: AbortSignal.timeout(10_000) });
    const body = (await res.json()) as ApiAnswer<T>;
    if (body.status !== "success" || body.data === undefined) throw new Error(`prometheus ${path}: ${body.errorType ?? res.status}: ${body.error ?? "no data"}`);
    return body.data;
  };
  const query = async (expr: string): Promise<QueryResult[]> => {
    const data = await api<{ resultType: string; result: QueryResult[] | [number, string] }>(`query?query=${encodeURIComponent(expr)}`);
    // A scalar (e.g. `time()`) comes back as one [t, v] pair: shape it as one sample without labels.
    if (data.resultType === "scalar") return [{ metric: {}, value: data.result as [number, string] }];
    return data.result as QueryResult[];
  };
  return { url, pid: proc.pid, dir, query, api, output, stop };
}
