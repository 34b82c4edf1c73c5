// A member's span export: the OpenTelemetry SDK builds spans for sampled hops from the observation hook and a bounded
// queue ships them to an OTLP/HTTP collector. Sampling and propagation live in the core; this only records.
import { AlwaysOnSampler, BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { resourceFromAttributes } from "@opentelemetry/resources";
import type { PlainClient } from "../../runtime/ports.ts";
import type { Observation } from "../../shared/telemetry/observe.ts";
import { PresetIds } from "./preset-ids.ts";
import { spanRecorder } from "./span-recorder.ts";
import { BatchQueue } from "./batch-queue.ts";
import { otlpHttpExporter, type ExportLog } from "./otlp-exporter.ts";
import { droppedSpans, exportedSpans } from "./stats.ts";

export type Tracing = {
  /** Spans exported, dropped (and counted), and waiting in the queue: for admin /info and metrics. */
  stats(): { exported: number; dropped: number; queued: number };
  /** Stops recording and sends what is queued, waiting at most `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
};

/** Queue and batch sizes: at 1 % sampling a busy sidecar makes tens of spans a second; 1024 spans cost about 2 MB. */
const QUEUE = { maxQueue: 1024, maxBatch: 256, delayMs: 1000 };
const EXPORT_TIMEOUT_MS = 10_000;

export function startTracing(o: { endpoint: string; service: string; namespace: string; observe: Observation; log: ExportLog; plainClient?: PlainClient }): Tracing {
  const ids = new PresetIds();
  const queue = new BatchQueue(otlpHttpExporter({ url: o.endpoint, timeoutMs: EXPORT_TIMEOUT_MS, log: o.log, ...(o.plainClient === undefined ? {} : { plainClient: o.plainClient }) }), QUEUE);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": o.service, "service.namespace": o.namespace }),
    idGenerator: ids,
    // The core has decided already: only sampled hops reach the recorder, and each becomes a span.
    sampler: new AlwaysOnSampler(),
    spanProcessors: [queue],
    // Bounds what one span can hold, whatever a caller sent (paths are caller-chosen).
    spanLimits: { attributeValueLengthLimit: 512, attributeCountLimit: 64, eventCountLimit: 32 },
  });
  const unsubscribe = o.observe.subscribe(spanRecorder({ tracer: provider.getTracer("vm-mesh"), ids, service: o.service }));
  return {
    stats: () => ({ exported: exportedSpans(), dropped: droppedSpans(), queued: queue.queued() }),
    async stop(timeoutMs = 2000) {
      unsubscribe();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
      await Promise.race([provider.shutdown().catch(() => undefined), deadline]);
      clearTimeout(timer);
    },
  };
}
