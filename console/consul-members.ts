// The members Consul knows (registrations with Meta.kind sidecar or gateway), their checks, where their metrics
// listener is (Meta.metrics_port/metrics_address) and the status each publishes under mesh-status/<id>.
import { consulClient } from "../member/consul/client.ts";
import { memberHealth, type CheckState } from "../shared/discovery/consul-health.ts";
import type { TargetState } from "./view.ts";

type HealthEntry = {
  Node: { Node: string; Address: string };
  Service: { ID: string; Service: string; Address: string; Meta?: Record<string, string> | null };
  Checks: CheckState[];
};

export type ConsulMember = {
  id: string;
  consul: NonNullable<TargetState["consul"]>;
  /** Its /metrics URL, or undefined when it advertises no metrics listener (its admin port is loopback only). */
  metricsUrl: string | undefined;
  report: TargetState["report"];
};

const TIMEOUT = 3000;

function metricsUrl(e: HealthEntry): string | undefined {
  const m = e.Service.Meta ?? {};
  if (m.metrics_port === undefined) return undefined;
  const host = m.metrics_address ?? (e.Service.Address || e.Node.Address);
  return `http://${host.includes(":") ? `[${host}]` : host}:${m.metrics_port}/metrics`;
}

function report(raw: string | undefined): TargetState["report"] {
  if (raw === undefined) return undefined;
  try {
    const r = JSON.parse(raw) as Record<string, unknown>;
    const str = (k: string) => (typeof r[k] === "string" ? (r[k] as string) : undefined);
    return { config: typeof r.config === "number" ? r.config : undefined, source: str("source"), certNotAfter: str("certNotAfter"), reportedAt: str("reportedAt"), rejected: typeof r.rejected === "number" ? r.rejected : undefined };
  } catch {
    return undefined; // one unreadable report must not hide the member
  }
}

export async function consulMembers(addr: string, token: string | undefined): Promise<ConsulMember[]> {
  const consul = consulClient(addr, token);
  const [services, kv] = await Promise.all([
    consul.catalog.service.list({ timeout: TIMEOUT }) as Promise<Record<string, string[]>>,
    consul.kv.get({ key: "mesh-status/", recurse: true, timeout: TIMEOUT }) as Promise<Array<{ Key: string; Value: string | null }> | undefined>,
  ]);
  const reports = new Map((kv ?? []).map((e) => [e.Key.slice("mesh-status/".length), e.Value ?? undefined] as const));
  const entries = await Promise.all(Object.keys(services).sort().map((service) => consul.health.service({ service, timeout: TIMEOUT }) as Promise<HealthEntry[]>));
  const out: ConsulMember[] = [];
  for (const e of entries.flat()) {
    const kind = e.Service.Meta?.kind;
    if (kind !== "sidecar" && kind !== "gateway") continue;
    const { health, output } = memberHealth(e.Checks, e.Service.ID);
    out.push({ id: e.Service.ID, consul: { service: e.Service.Service, kind, node: e.Node.Node, health, output }, metricsUrl: metricsUrl(e), report: report(reports.get(e.Service.ID)) });
  }
  return out;
}
