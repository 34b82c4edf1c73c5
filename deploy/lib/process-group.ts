// Starts mesh processes, waits for their JSON "ready" line, and stops every one of them by PID.
// Used by the demo and by end-to-end tests, so both clean up the same way, also on failure.
import type { Subprocess } from "bun";
import { appendFileSync } from "node:fs";

export type Started = { name: string; pid: number; ready: Record<string, unknown>; proc: Subprocess };

export type SpawnOptions = {
  env?: Record<string, string>;
  /** Append the child's output here; otherwise it is kept in memory (last 200 lines) for error messages. */
  logFile?: string;
  readyTimeoutMs?: number;
};

export const BUN = process.execPath;

/** SIGTERM, up to `graceMs` to exit, then SIGKILL: one process of a group, e.g. to restart it in a test. */
export async function stopByPid(s: Started, graceMs = 10_000): Promise<void> {
  s.proc.kill("SIGTERM");
  await Promise.race([s.proc.exited, Bun.sleep(graceMs)]);
  s.proc.kill("SIGKILL");
  await s.proc.exited;
}

export class ProcessGroup {
  private readonly children: Started[] = [];
  private readonly tails = new Map<number, string[]>();

  async spawn(name: string, cmd: string[], opts: SpawnOptions = {}): Promise<Started> {
    const proc = Bun.spawn(cmd, {
      env: { ...process.env, ...opts.env },
      stdout: "pipe",
      stderr: "pipe",
      stdin: "ignore",
    });
    const tail: string[] = [];
    this.tails.set(proc.pid, tail);
    const keep = (line: string) => {
      if (opts.logFile !== undefined) appendFileSync(opts.logFile, `${line}\n`);
      tail.push(line);
      if (tail.length > 200) tail.shift();
    };
    let onReady: (r: Record<string, unknown>) => void = () => {};
    const ready = new Promise<Record<string, unknown>>((resolve) => (onReady = resolve));
    void pump(proc.stdout as ReadableStream<Uint8Array>, (line) => {
      keep(line);
      if (line.includes('"ready"')) {
        try {
          const j = JSON.parse(line) as Record<string, unknown>;
          if (j.msg === "ready") onReady(j);
        } catch {
          // not JSON: an ordinary log line
        }
      }
    });
    void pump(proc.stderr as ReadableStream<Uint8Array>, keep);
    const started: Started = { name, pid: proc.pid, ready: {}, proc };
    this.children.push(started);
    const timeoutMs = opts.readyTimeoutMs ?? 20_000;
    const result = await Promise.race([
      ready,
      proc.exited.then((code) => new Error(`${name} exited with ${code} before it was ready`)),
      Bun.sleep(timeoutMs).then(() => new Error(`${name} not ready after ${timeoutMs} ms`)),
    ]);
    if (result instanceof Error) throw new Error(`${result.message}\n--- ${name} output ---\n${tail.join("\n")}`);
    started.ready = result;
    return started;
  }

  output(pid: number): string {
    return (this.tails.get(pid) ?? []).join("\n");
  }

  /** SIGTERM to every child (newest first), SIGKILL to those still alive after `timeoutMs`. */
  async stopAll(timeoutMs = 5000): Promise<void> {
    const alive = [...this.children].reverse().filter((c) => c.proc.exitCode === null && c.proc.signalCode === null);
    for (const c of alive) c.proc.kill("SIGTERM");
    await Promise.race([Promise.all(alive.map((c) => c.proc.exited)), Bun.sleep(timeoutMs)]);
    for (const c of alive) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill("SIGKILL");
    await Promise.all(alive.map((c) => c.proc.exited));
    this.children.length = 0;
  }
}

async function pump(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let buf = "";
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      onLine(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  }
  if (buf !== "") onLine(buf);
}
