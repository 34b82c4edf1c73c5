// The one structured logger (pino, JSON lines on stdout) every mesh process uses.
// Writes are buffered and asynchronous: a synchronous write per access-log line cost a third of a sidecar's CPU.
import pino from "pino";

export type Logger = pino.Logger;

/** Lifecycle lines (ready, draining) go out at once with flushLog(); access lines ride the 8 KiB buffer. */
export function createLogger(opts: { service: string; level?: string; sync?: boolean }): Logger {
  const level = opts.level ?? process.env.MESH_LOG_LEVEL ?? "info";
  const sync = opts.sync ?? false;
  const dest = pino.destination({ dest: 1, sync, minLength: sync ? 0 : 8192 });
  if (!sync) {
    // Flush what is buffered when the process ends, so the last lines (drain, exit) are never lost.
    process.on("exit", () => {
      try {
        dest.flushSync();
      } catch {
        // nothing left to flush, or stdout already gone
      }
    });
  }
  const logger = pino({ level, name: opts.service, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, dest);
  flushers.set(logger, () => {
    try {
      dest.flushSync();
    } catch {
      // an async write is in progress: it carries the buffered lines out shortly anyway
      setTimeout(() => {
        try {
          dest.flushSync();
        } catch {
          // give up: the next write or the exit hook flushes
        }
      }, 5);
    }
  });
  return logger;
}

const flushers = new WeakMap<object, () => void>();

/**
 * Writes buffered lines now. For lifecycle lines (ready, draining, config applied) that supervisors and
 * operators wait for; pino's own async flush() did not reliably write them out under Bun.
 */
export function flushLog(log: object): void {
  flushers.get(log)?.();
}
