// Buffered stdout for Bun processes: lines collect in one byte buffer and go out in one write every 50 ms (or when
// 16 KiB pile up). Batched here, not in Bun's FileSink: on a file or pipe it writes once per event-loop turn whatever its
// highWaterMark, i.e. one syscall per access line (runtime/bun/log-sink.test.ts). Flushed on exit.
import type { LogSink } from "../ports.ts";

// 16 KiB (~64 access lines, a few hundred writes/s at 25k req/s): at 64 KiB the joined chunks raised a loaded
// sidecar's peak RSS by ~7 MB (tools/sidecar-rss.ts: 85.4 vs 79.4 MB).
const HIGH_WATER = 16 * 1024;
// Room past the high-water mark, so a line that starts just below it still fits: the flush comes after it.
const CAPACITY = HIGH_WATER + 16 * 1024;

export function createStdoutSink(): LogSink {
  const writer = Bun.stdout.writer();
  const encoder = new TextEncoder();
  // Bytes, not strings: access lines are encoded straight into it (writeEncoded), pino's lines through encodeInto.
  const buf = new Uint8Array(CAPACITY);
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const out = (bytes: Uint8Array | string): void => {
    try {
      // FileSink copies what it is given before write() returns, so the buffer can be filled again at once.
      writer.write(bytes);
      void writer.flush();
    } catch {
      // stdout closed (supervisor gone): dropping log lines must never take traffic down
    }
  };
  const flush = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (size === 0) return;
    const n = size;
    size = 0;
    out(buf.subarray(0, n));
  };
  const written = (end: number): void => {
    size = end;
    if (size >= HIGH_WATER) return flush();
    if (timer === undefined) {
      timer = setTimeout(flush, 50);
      timer.unref();
    }
  };
  process.on("exit", flush);
  return {
    write(line) {
      // UTF-8 takes at most 3 bytes per UTF-16 unit: a line that might not fit goes after a flush, or alone.
      if (size + line.length * 3 > CAPACITY) flush();
      if (line.length * 3 > CAPACITY) return out(line);
      written(size + encoder.encodeInto(line, buf.subarray(size)).written);
    },
    writeEncoded(fill, a, b, c) {
      let end = fill(buf, size, a, b, c);
      if (end < 0 && size > 0) {
        flush();
        end = fill(buf, 0, a, b, c);
      }
      if (end < 0) return false;
      written(end);
      return true;
    },
    flush,
  };
}
