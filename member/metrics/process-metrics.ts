// Process health, read when scraped: resident memory, start time, and the event-loop delay summary (p50, p99 and
// the worst over the last minute) from our own timer-drift sampler.
import { ScrapeGauge, WindowSummary } from "./series.ts";
import { startEventLoopSampler } from "./event-loop.ts";
import type { MetricsRegistry } from "./registry.ts";

/** Returns the sampler's stop function. */
export function processMetrics(registry: MetricsRegistry): () => void {
  // timeOrigin is when this process's clock started: the process start, to within its startup.
  const started = performance.timeOrigin / 1000;
  registry.register(new ScrapeGauge("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds.", () => [[{}, started]]));
  registry.register(new ScrapeGauge("process_resident_memory_bytes", "Resident memory size in bytes.", () => [[{}, process.memoryUsage().rss]]));
  const loop = startEventLoopSampler();
  registry.register(new WindowSummary("mesh_event_loop_delay_seconds", "How late a 100 ms timer fired: event-loop delay over the last 60 s (quantile 1 = the worst).", [0.5, 0.99, 1], loop.read));
  return loop.stop;
}
