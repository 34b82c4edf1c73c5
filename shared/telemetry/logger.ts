// The one structured logger (pino, JSON lines on stdout) every mesh process uses.
// Writes asynchronously so an access-log line never blocks the request path on a slow terminal.
import pino from "pino";

export type Logger = pino.Logger;

export function createLogger(opts: { service: string; level?: string; sync?: boolean }): Logger {
  const level = opts.level ?? process.env.MESH_LOG_LEVEL ?? "info";
  // Tests want lines flushed before the process exits; long-running processes prefer async writes.
  const dest = pino.destination({ dest: 1, sync: opts.sync ?? true, minLength: opts.sync === false ? 4096 : 0 });
  return pino({ level, base: { service: opts.service }, timestamp: pino.stdTimeFunctions.isoTime }, dest);
}
