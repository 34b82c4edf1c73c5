// The access log, the observation hook's first subscriber: one line per request and listener, with the fields an
// operator greps for first. Formatted by hand into pino's JSON shape: this runs per request, pino's path cost ~10% CPU.
import type { Observation, RequestEvent } from "./observe.ts";

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

/** Subscribes the access log to `observe` (a no-op when off); returns the unsubscribe function. */
export function subscribeAccessLog(observe: Observation, name: string, sink: { write(line: string): void }, enabled: boolean): () => void {
  if (!enabled) return () => {};
  return observe.subscribe({ request: (e) => sink.write(formatAccessLine(name, e, Date.now())) });
}
