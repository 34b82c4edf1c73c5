// Buffered stdout for Bun processes: lines collect in memory and go out in one write every 50 ms (or when 16 KiB
// pile up). Batched here, not in Bun's FileSink: on a file or pipe it writes once per event-loop turn whatever its
// highWaterMark, i.e. one syscall per access line (runtime/bun/log-sink.test.ts). Flushed on exit.
import type { LogSink } from "../ports.ts";

// 16 KiB (~64 access lines, a few hundred writes/s at 25k req/s): at 64 KiB the joined chunks raised a loaded
// sidecar's peak RSS by ~7 MB (tools/sidecar-rss.ts: 85.4 vs 79.4 MB).
const HIGH_WATER = 16 * 1024;

export function createStdoutSink(): LogSink {
  const writer = Bun.stdout.writer();
  let lines: string[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (lines.length === 0) return;
    const chunk = lines.join("");
    lines = [];
    size = 0;
    try {
      writer.write(chunk);
      void writer.flush();
    } catch {
      // stdout closed (supervisor gone): dropping log lines must never take traffic down
    }
  };
  process.on("exit", flush);
  return {
    write(line) {
      lines.push(line);
      size += line.length;
      if (size >= HIGH_WATER) return flush();
      if (timer === undefined) {
        timer = setTimeout(flush, 50);
        timer.unref();
      }
    },
    flush,
  };
}
