// Test fixture: an outlier detection config with every field set (no timers fire during a test: long interval and
// ejection times), for unit tests of clusters and the registry; override what a case is about.
import type { OutlierConfig } from "../../shared/upstream/outlier-detection.ts";

export function outlierConfig(o: Partial<OutlierConfig> = {}): OutlierConfig {
  return { consecutive5xx: 3, consecutiveGatewayErrors: undefined, intervalMs: 10_000, baseEjectionMs: 30_000, maxEjectionMs: 300_000, maxEjectionPercent: 100, minHealthPercent: 0, ...o };
}
