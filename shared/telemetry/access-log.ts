// The access log, the observation hook's first subscriber: one line per request and listener, with the fields an
// operator greps for first. Formatted by hand into pino's JSON shape: this runs per request, pino's path cost ~10% CPU.
import type { Observation, RequestEvent } from "./observe.ts";
import { encodeAccessLine } from "./access-line-bytes.ts";

const NEEDS_ESCAPE = /["\\\u0000-\u001f\u007f-\uffff]/;

/** JSON string literal; most values (methods, ids, paths) need no escaping, so skip the generic encoder. */
function str(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

export function formatAccessLine(name: string, e: RequestEvent, now: number): string {
  const ms = Math.round(e.durationMs * 100) / 100;
  let line = `{"level":30,"time":${now},"name":${str(name)},"listener":${str(e.listener)},"method":${str(e.method)},"path":${str(e.path)},"status":${e.status},"ms":${ms},"requestId":${str(e.requestId)}`;
  if (e.route !== undefined) line += `,"route":${str(e.route)}`;
  if (e.endpoint !== undefined) line += `,"upstream":${str(e.endpoint)}`;
  if (e.route !== undefined || e.attempts > 0) line += `,"attempts":${e.attempts}`;
  if (e.cause !== undefined) line += `,"cause":${str(e.cause)}`;
  if (e.peer !== undefined) line += `,"peer":${str(e.peer)}`;
  if (e.fault !== undefined) line += `,"fault":"${e.fault}"`;
  // Ids are hex we generated or validated (telemetry/trace-context.ts): nothing to escape.
  if (e.trace !== undefined) line += `,"traceId":"${e.trace.traceId}","spanId":"${e.trace.spanId}"`;
  return `${line},"msg":"access"}\n`;
}

/** Where log lines go: strings, or (sinks that batch bytes) lines encoded straight into the sink's buffer. */
export type LineSink = {
  write(line: string): void;
  /**
   * `fill` writes a line into the sink's buffer from `at` and returns the index past it, or -1 when it does not fit.
   * False when it fits not even an empty buffer (the caller then writes the line as a string). Arguments are passed
   * through, not closed over: this runs per request.
   */
  writeEncoded?<A, B, C>(fill: (buf: Uint8Array, at: number, a: A, b: B, c: C) => number, a: A, b: B, c: C): boolean;
};

/** Subscribes the access log to `observe` (a no-op when off); returns the unsubscribe function. */
export function subscribeAccessLog(observe: Observation, name: string, sink: LineSink, enabled: boolean): () => void {
  if (!enabled) return () => {};
  if (sink.writeEncoded === undefined) return observe.subscribe({ request: (e) => sink.write(formatAccessLine(name, e, Date.now())) });
  const bytes = sink as Required<LineSink>;
  return observe.subscribe({
    request: (e) => {
      const now = Date.now();
      if (!bytes.writeEncoded(encodeAccessLine, name, e, now)) sink.write(formatAccessLine(name, e, now));
    },
  });
}
