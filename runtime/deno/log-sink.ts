// Buffered stdout for Deno processes: lines collect in memory and go out in one write every 50 ms (or when
// 64 KiB pile up), instead of one syscall per access line. Flushed on exit so nothing is lost.
import type { LogSink } from "../ports.ts";
import { denoApi } from "./deno-api.ts";

const HIGH_WATER = 64 * 1024;

export function createStdoutSink(): LogSink {
  const stdout = denoApi().stdout;
  const encoder = new TextEncoder();
  let lines: string[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = (): void => {
    clearTimeout(timer);
    timer = undefined;
    if (lines.length === 0) return;
    let bytes = encoder.encode(lines.join(""));
    lines = [];
    size = 0;
    try {
      // writeSync may write less than asked (a pipe that is nearly full): go on until all of it is out.
      while (bytes.length > 0) bytes = bytes.subarray(stdout.writeSync(bytes));
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
        (timer as { unref?: () => void }).unref?.();
      }
    },
    flush,
  };
}
