// Sends span batches to an OTLP/HTTP collector as JSON, with a deadline per export, and says when it starts and
// stops failing (one log line each way, never one per batch).
//
// Hand-written rather than @opentelemetry/exporter-trace-otlp-http: its release line (0.301.x) belongs to SDK 3.x and
// needs @opentelemetry/api >= 1.10, while sdk-trace-base 2.12.1 accepts only < 1.10 (npm refuses the pair), and it would
// bring a second copy of the SDK (core, resources, sdk-trace, sdk-logs, sdk-metrics 3.x) for one POST of JSON.
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { otlpTraceRequest } from "./otlp-json.ts";
import type { SendBatch } from "./batch-queue.ts";
import type { PlainClient } from "../../runtime/ports.ts";

export type ExportLog = { warn(o: object, msg: string): void; info(o: object, msg: string): void };

/**
 * A plain http:// collector (the usual local agent) is reached with the member's own HTTP/1.1 client: the runtime's
 * fetch would add about 5 MB of RSS to a sidecar for this one use (measured); https:// goes through fetch.
 */
export function otlpHttpExporter(o: { url: string; timeoutMs: number; log: ExportLog; plainClient?: PlainClient }): SendBatch {
  let failing: string | undefined;
  const target = new URL(o.url);
  const plain = o.plainClient !== undefined && target.protocol === "http:" ? o.plainClient : undefined;
  const endpoint = { address: target.hostname.replace(/^\[|\]$/g, ""), port: Number(target.port || 80) };
  return async (spans: readonly ReadableSpan[]) => {
    let problem: string | undefined;
    try {
      // Host explicitly: the plain client writes the request's own headers, as it does for requests the core prepared.
      const init = { method: "POST", headers: { "content-type": "application/json", host: target.host }, body: JSON.stringify(otlpTraceRequest(spans)), signal: AbortSignal.timeout(o.timeoutMs) };
      const res = plain === undefined ? await fetch(o.url, init) : await plain.send(endpoint, new Request(o.url, init), { signal: init.signal });
      await res.arrayBuffer().catch(() => undefined); // read to the end so the connection can be reused
      if (!res.ok) problem = `collector answered HTTP ${res.status}`;
    } catch (err) {
      problem = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    if (problem !== undefined && failing === undefined) o.log.warn({ collector: o.url, reason: problem }, "trace export failing: spans are dropped (and counted) until the collector answers");
    if (problem === undefined && failing !== undefined) o.log.info({ collector: o.url }, "trace export recovered");
    failing = problem;
    return problem === undefined;
  };
}
