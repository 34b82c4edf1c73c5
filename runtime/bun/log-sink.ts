// Buffered stdout for Bun processes: lines collect in Bun's FileSink and go out in one write every 50 ms
// (or when 64 KiB pile up), instead of one syscall per access line. Flushed on exit so nothing is lost.
import type { LogSink } from "../ports.ts";

export function createStdoutSink(): LogSink {
  const writer = Bun.stdout.writer({ highWaterMark: 64 * 1024 });
  let pending = false;
  const flush = (): void => {
    pending = false;
    try {
      void writer.flush();
    } catch {
      // stdout closed (supervisor gone): dropping log lines must never take traffic down
    }
  };
  process.on("exit", flush);
  return {
    write(line) {
      try {
        writer.write(line);
      } catch {
        return;
      }
      if (!pending) {
        pending = true;
        setTimeout(flush, 50).unref();
      }
    },
    flush,
  };
}
