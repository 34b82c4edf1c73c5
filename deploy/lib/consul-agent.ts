// A real single-node Consul agent (-dev) on free 127.0.0.1 ports, stopped by PID: for tests and the demo.
// The binary comes from deploy/consul/provision.sh (run once per process); restart() keeps the ports.
import type { Subprocess } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "./ports.ts";
import { consulClient } from "../../member/consul/client.ts";
import { killOnExit, pump, release } from "./child-process.ts";

export type ConsulAgent = {
  /** http://127.0.0.1:PORT */
  httpAddr: string;
  pid: number;
  stop(): Promise<void>;
  /** Stop and start again on the same ports (dev mode keeps state in memory, so it starts empty). */
  restart(): Promise<void>;
};

const PROVISION = resolve(import.meta.dir, "../consul/provision.sh");
const READY_TIMEOUT_MS = 20_000;
const KILL_GRACE_MS = 5_000;

let binary: Promise<string> | undefined;

function consulBinary(): Promise<string> {
  binary ??= (async () => {
    const proc = Bun.spawn(["bash", PROVISION], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    const path = out.trim().split("\n").pop() ?? "";
    if (code !== 0 || path === "") throw new Error(`provision.sh failed (${code}):\n${err}`);
    return path;
  })();
  binary.catch(() => (binary = undefined)); // a failed provision may be retried by the next caller
  return binary;
}


type Ports = { http: number; serfLan: number; serfWan: number; server: number };

async function distinctFreePorts(): Promise<Ports> {
  const got = new Set<number>();
  while (got.size < 4) got.add(await freePort());
  const [http, serfLan, serfWan, server] = [...got] as [number, number, number, number];
  return { http, serfLan, serfWan, server };
}

async function waitForLeader(httpAddr: string, proc: Subprocess, output: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exited = false;
  void proc.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`consul exited with ${proc.exitCode} before electing a leader\n--- consul output ---\n${output()}`);
    try {
      if ((await consulClient(httpAddr).status.leader({ timeout: 1000 })) !== "") return;
    } catch {
      // not listening yet
    }
    await Bun.sleep(100);
  }
  throw new Error(`consul had no leader after ${READY_TIMEOUT_MS} ms\n--- consul output ---\n${output()}`);
}


async function kill(proc: Subprocess): Promise<void> {
  if (proc.exitCode === null && proc.signalCode === null) {
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), KILL_GRACE_MS);
    await proc.exited;
    clearTimeout(timer);
  }
  release(proc);
}

/** `hcl`: extra agent config, e.g. `limits { kv_max_value_size = 2000000 }` (kept across restart()). */
export async function startConsul(opts: { hcl?: string } = {}): Promise<ConsulAgent> {
  const bin = await consulBinary();
  const ports = await distinctFreePorts();
  const httpAddr = `http://127.0.0.1:${ports.http}`;
  let proc: Subprocess | undefined;
  let dataDir: string | undefined;

  const launch = async () => {
    dataDir = mkdtempSync(join(tmpdir(), "mesh-consul-"));
    const tail: string[] = [];
    // -dev keeps state in memory; -data-dir only gives the agent a private scratch folder.
    const p = Bun.spawn(
      [bin, "agent", "-dev", "-bind", "127.0.0.1", "-client", "127.0.0.1", "-data-dir", dataDir,
        "-http-port", String(ports.http), "-dns-port", "-1", "-grpc-port", "-1",
        "-serf-lan-port", String(ports.serfLan), "-serf-wan-port", String(ports.serfWan), "-server-port", String(ports.server),
        ...(opts.hcl === undefined ? [] : ["-hcl", opts.hcl])],
      { stdout: "pipe", stderr: "pipe", stdin: "ignore" },
    );
    killOnExit(p);
    proc = p;
    void pump(p.stdout as ReadableStream<Uint8Array>, tail);
    void pump(p.stderr as ReadableStream<Uint8Array>, tail);
    try {
      await waitForLeader(httpAddr, p, () => tail.join(""));
    } catch (err) {
      await halt();
      throw err;
    }
  };

  const halt = async () => {
    if (proc !== undefined) await kill(proc);
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
    proc = undefined;
    dataDir = undefined;
  };

  await launch();
  const agent: ConsulAgent = {
    httpAddr,
    pid: proc!.pid,
    stop: halt,
    restart: async () => {
      await halt();
      await launch();
      agent.pid = proc!.pid;
    },
  };
  return agent;
}
