// The member's metric registry: prom-client's Registry (text format, escaping, default labels mesh_service, mesh_kind),
// loaded without the package index, which also loads collectors we do not use (about 7 MB more RSS on Bun 1.4.4).
import type { Metric, Registry as PromRegistry } from "prom-client";
// @ts-expect-error prom-client declares types for its index only; this file is the class the index re-exports.
import RegistryClass from "prom-client/lib/registry.js";
import type { RegistrableMetric } from "./series.ts";

export type MemberKind = "sidecar" | "gateway";

export type MetricsRegistry = {
  register<M extends RegistrableMetric>(m: M): M;
  /** The exposition text and its content type, as Prometheus scrapes it. */
  render(): Promise<{ contentType: string; body: string }>;
};

export function createRegistry(defaults: { service: string; kind: MemberKind }): MetricsRegistry {
  const registry = new (RegistryClass as typeof PromRegistry)();
  registry.setDefaultLabels({ mesh_service: defaults.service, mesh_kind: defaults.kind });
  return {
    register(m) {
      // The registry reads name, help, type and get() (the same shape its own metric classes return).
      registry.registerMetric(m as unknown as Metric);
      return m;
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
