// The structured logger (pino, JSON lines) for lifecycle and error lines of every mesh process.
// Processes pass a buffered sink (one write per batch) so access lines and these lines share one ordered stream.
import pino from "pino";
import type { LogSink } from "../runtime/ports.ts";

export type Logger = pino.Logger;

/** Where log lines go: a runtime-specific buffered writer (sidecar/log-sink.ts) or, by default, stdout. */
export type { LogSink };

const sinks = new WeakMap<object, LogSink>();

export function createLogger(opts: { service: string; level?: string; sink?: LogSink }): Logger {
  const level = opts.level ?? process.env.MESH_LOG_LEVEL ?? "info";
  const dest = opts.sink ?? pino.destination({ dest: 1, sync: true });
  const logger = pino({ level, name: opts.service, base: undefined, timestamp: pino.stdTimeFunctions.epochTime }, dest);
  if (opts.sink !== undefined) sinks.set(logger, opts.sink);
  return logger;
}

/** Writes buffered lines now: for lifecycle lines (ready, draining, config applied) that supervisors wait for. */
export function flushLog(log: object): void {
  sinks.get(log)?.flush();
}
