// Starts the bench's processes (pinned with taskset), waits until each says ready, and stops them all by PID.
// Output goes to files, not pipes, so a chatty proxy never blocks on a pipe nobody drains during load.
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";

export type Managed = {
  readonly name: string;
  readonly pid: number;
  readonly proc: Subprocess;
  readonly outPath: string;
  readonly errPath: string;
};

export type ReadyLine = Record<string, unknown>;

function tail(path: string, lines = 20): string {
  if (!existsSync(path)) return "";
  return readFileSync(path, "utf8").split("\n").slice(-lines).join("\n");
}

/** The first JSON stdout line whose msg is "ready" (pino or plain JSON). */
export function findReadyLine(text: string): ReadyLine | undefined {
  for (const line of text.split("\n")) {
    if (!line.includes('"ready"')) continue;
    try {
      const obj = JSON.parse(line) as ReadyLine;
      if (obj.msg === "ready") return obj;
    } catch {
      // not JSON: ignore
    }
  }
  return undefined;
}

export class ProcessSet {
  private readonly procs: Managed[] = [];
  /** Short-lived helpers (wrk) that must also die on Ctrl-C. */
  readonly transient = new Set<number>();

  constructor(private readonly logDir: string) {}

  get all(): readonly Managed[] {
    return this.procs;
  }

  spawn(name: string, cmd: readonly string[], env?: Record<string, string>): Managed {
    const outPath = join(this.logDir, `${name}.out.log`);
    const errPath = join(this.logDir, `${name}.err.log`);
    const out = openSync(outPath, "w");
    const err = openSync(errPath, "w");
    try {
      const proc = Bun.spawn([...cmd], {
        stdout: out,
        stderr: err,
        stdin: "ignore",
        env: { ...process.env, ...env },
      });
      const m: Managed = { name, pid: proc.pid, proc, outPath, errPath };
      this.procs.push(m);
      return m;
    } finally {
      closeSync(out);
      closeSync(err);
    }
  }

  /** Resolves with the ready line (or `{}` when the admin /ready answered first); rejects with the log tails on exit or timeout. */
  async waitReady(m: Managed, opts: { timeoutMs?: number; adminPort?: number } = {}): Promise<ReadyLine> {
    const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
    while (Date.now() < deadline) {
      const line = findReadyLine(existsSync(m.outPath) ? readFileSync(m.outPath, "utf8") : "");
      if (line) return line;
      if (m.proc.exitCode !== null || m.proc.signalCode !== null) {
        throw new Error(`${m.name} exited (${m.proc.exitCode ?? m.proc.signalCode}) before ready\n--- stderr ---\n${tail(m.errPath)}\n--- stdout ---\n${tail(m.outPath)}`);
      }
      if (opts.adminPort !== undefined) {
        try {
          const res = await fetch(`http://127.0.0.1:${opts.adminPort}/ready`, { signal: AbortSignal.timeout(500) });
          if (res.status === 200) return {};
        } catch {
          // not listening yet
        }
      }
      await Bun.sleep(50);
    }
    throw new Error(`${m.name} not ready after ${opts.timeoutMs ?? 20_000} ms\n--- stderr ---\n${tail(m.errPath)}\n--- stdout ---\n${tail(m.outPath)}`);
  }

  describe(m: Managed): string {
    return `--- ${m.name} stderr ---\n${tail(m.errPath)}\n--- ${m.name} stdout ---\n${tail(m.outPath, 5)}`;
  }

  /** SIGTERM every process by PID, SIGKILL what is still alive after `graceMs`. */
  async stopAll(graceMs = 3000): Promise<void> {
    this.killTransient();
    const alive = this.procs.filter((m) => m.proc.exitCode === null && m.proc.signalCode === null);
    for (const m of alive) signal(m.pid, "SIGTERM");
    await Promise.race([Promise.all(alive.map((m) => m.proc.exited)), Bun.sleep(graceMs)]);
    for (const m of alive) if (m.proc.exitCode === null && m.proc.signalCode === null) signal(m.pid, "SIGKILL");
    await Promise.race([Promise.all(alive.map((m) => m.proc.exited)), Bun.sleep(1000)]);
  }

  killTransient(): void {
    for (const pid of this.transient) signal(pid, "SIGKILL");
    this.transient.clear();
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}
