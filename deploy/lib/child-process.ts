// Helpers for the long-lived tools tests and the demo start (Consul, Prometheus): their output kept as a bounded
// tail for error messages, and a SIGKILL on exit for any still running, so a crashed test leaves nothing behind.
import type { Subprocess } from "bun";

const running = new Set<Subprocess>();
let hooked = false;

/** Kills `proc` when this process exits, unless `release(proc)` came first. */
export function killOnExit(proc: Subprocess): void {
  running.add(proc);
  if (hooked) return;
  hooked = true;
  // 'exit' handlers may only do synchronous work.
  process.on("exit", () => {
    for (const p of running) {
      try {
        process.kill(p.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  });
}

export function release(proc: Subprocess): void {
  running.delete(proc);
}

/** Appends the stream's text to `tail`, keeping the last 400 chunks. */
export async function pump(stream: ReadableStream<Uint8Array>, tail: string[]): Promise<void> {
  const dec = new TextDecoder();
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    tail.push(dec.decode(value, { stream: true }));
    if (tail.length > 400) tail.splice(0, tail.length - 400);
  }
}
