// An IdGenerator that hands the SDK the ids the routing core already chose for a hop: spans are built after the
// request, from its event, and must carry the ids its traceparent and access-log line already named.
import type { IdGenerator } from "@opentelemetry/sdk-trace-base";

export class PresetIds implements IdGenerator {
  private traceId = "";
  private spanId = "";

  /** The ids the next startSpan takes. Set right before it, synchronously: nothing can interleave. */
  preset(traceId: string, spanId: string): void {
    this.traceId = traceId;
    this.spanId = spanId;
  }

  generateTraceId(): string {
    return this.traceId;
  }

  generateSpanId(): string {
    return this.spanId;
  }
}
