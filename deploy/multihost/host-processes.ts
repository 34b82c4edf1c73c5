// Long-running processes inside a host's namespace (`ip netns exec NS cmd`, which keeps the PID): started with a
// log file each, awaited until ready, stopped by PID (SIGTERM, then SIGKILL) or killed outright like a dying host.
import type { Subprocess } from "bun";
import { appendFileSync } from "node:fs";
import { join } from "node:path";

export type HostProcess = {
  name: string;
  ns: string;
  cmd: string[];
  pid: number;
  proc: Subprocess;
  logFile: string;
  /** The JSON "ready" line (mesh members print one), or {} for processes awaited otherwise. */
  ready: Record<string, unknown>;
};

export type StartOptions = {
  env?: Record<string, string>;
  /** Awaited instead of the JSON ready line (e.g. "Consul has a leader"). */
  readyWhen?: () => Promise<boolean>;
  readyTimeoutMs?: number;
};

const TAIL_LINES = 60;

export class HostProcesses {
  private readonly running = new Set<HostProcess>();
  private readonly tails = new Map<HostProcess, string[]>();

  constructor(private readonly logDir: string) {}

  async start(name: string, ns: string, cmd: string[], opts: StartOptions = {}): Promise<HostProcess> {
    const logFile = join(this.logDir, `${name}.log`);
    appendFileSync(logFile, `--- ${new Date().toISOString()} ip netns exec ${ns} ${cmd.join(" ")}\n`);
    const proc = Bun.spawn(["ip", "netns", "exec", ns, ...cmd], {
      env: { ...process.env, ...opts.env },
      stdout: "pipe",
      stderr: "pipe",
      stdin: "ignore",
    });
    const p: HostProcess = { name, ns, cmd, pid: proc.pid, proc, logFile, ready: {} };
    const tail: string[] = [];
    this.tails.set(p, tail);
    this.running.add(p);
    void proc.exited.then(() => this.running.delete(p));
    let onReady: (r: Record<string, unknown>) => void = () => {};
    const readyLine = new Promise<Record<string, unknown>>((r) => (onReady = r));
    const onLine = (line: string) => {
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      if (line.includes('"ready"')) {
        try {
          const j = JSON.parse(line) as Record<string, unknown>;
          if (j.msg === "ready") onReady(j);
        } catch {
          // an ordinary line
        }
      }
    };
    void pump(proc.stdout as ReadableStream<Uint8Array>, logFile, onLine);
    void pump(proc.stderr as ReadableStream<Uint8Array>, logFile, onLine);

    const timeoutMs = opts.readyTimeoutMs ?? 30_000;
    const waitReady = opts.readyWhen === undefined ? readyLine : poll(opts.readyWhen, timeoutMs).then(() => ({}), (e: unknown) => new Error(`${name}: ${String(e)}`));
    const result = await Promise.race([
      waitReady,
      proc.exited.then((code) => new Error(`${name} exited with ${code} before it was ready`)),
      Bun.sleep(timeoutMs).then(() => new Error(`${name} not ready after ${timeoutMs} ms`)),
    ]);
    if (result instanceof Error) {
      await this.kill(p);
      throw new Error(`${result.message} (log: ${logFile})\n--- ${name} output ---\n${tail.join("\n")}`);
    }
    p.ready = result;
    return p;
  }

  alive(p: HostProcess): boolean {
    return p.proc.exitCode === null && p.proc.signalCode === null;
  }

  /** SIGTERM, wait for the exit (a sidecar drains first), SIGKILL after `graceMs`. Resolves once it is gone. */
  async stop(p: HostProcess, graceMs = 15_000): Promise<void> {
    if (this.alive(p)) {
      p.proc.kill("SIGTERM");
      const timer = setTimeout(() => p.proc.kill("SIGKILL"), graceMs);
      await p.proc.exited;
      clearTimeout(timer);
    }
    this.running.delete(p);
  }

  /** SIGKILL without warning: what a host losing power looks like to everyone else. */
  async kill(p: HostProcess): Promise<void> {
    if (this.alive(p)) p.proc.kill("SIGKILL");
    await p.proc.exited;
    this.running.delete(p);
  }

  /** Every process still running, newest first, SIGTERM then SIGKILL. */
  async stopAll(graceMs = 10_000): Promise<void> {
    await Promise.all([...this.running].reverse().map((p) => this.stop(p, graceMs)));
  }

  /** For a process 'exit' hook: synchronous SIGKILL of everything still running. */
  killAllSync(): void {
    for (const p of this.running) {
      try {
        process.kill(p.pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
    this.running.clear();
  }

  tail(p: HostProcess, lines = 20): string {
    return (this.tails.get(p) ?? []).slice(-lines).join("\n");
  }
}

async function poll(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await Bun.sleep(200);
  }
  throw new Error("readiness check never passed");
}

async function pump(stream: ReadableStream<Uint8Array>, logFile: string, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let buf = "";
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const text = decoder.decode(value, { stream: true });
    appendFileSync(logFile, text);
    buf += text;
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      onLine(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  }
  if (buf !== "") onLine(buf);
}
