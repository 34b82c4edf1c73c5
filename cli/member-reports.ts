// Reads what `meshctl check` and `meshctl proxy-config` look at in Consul: the agent's leader and clock, the members
// registered with Meta.kind sidecar/gateway and their checks, and the status each publishes under mesh-status/<id>.
import { ConsulUnreachable } from "./consul-kv.ts";
import { memberHealth } from "../shared/discovery/consul-health.ts";

/** What member/status-report.ts writes today; every field optional, since older or newer members may differ. */
export type PublishedStatus = { config?: number; source?: string; appliedAt?: string; rejected?: number; [more: string]: unknown };
export type Report = { id: string; status: PublishedStatus | undefined; raw: string; modifyIndex: number };
export type RegisteredMember = { id: string; service: string; kind: string; health: "passing" | "warning" | "critical"; checkOutput: string };

const STATUS_PREFIX = "mesh-status/";

export function consulReader(consul: string, token: string | undefined) {
  const base = consul.replace(/\/+$/, "");
  const get = async (path: string): Promise<Response> => {
    try {
      return await fetch(`${base}${path}`, { headers: token === undefined ? {} : { "x-consul-token": token }, signal: AbortSignal.timeout(5000) });
    } catch (err) {
      throw new ConsulUnreachable(`consul at ${consul} unreachable: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const json = async <T>(path: string, missing: T): Promise<T> => {
    const res = await get(path);
    if (res.status === 404) return missing;
    if (!res.ok) throw new Error(`consul ${path}: ${res.status} ${(await res.text()).trim()}`);
    return (await res.json()) as T;
  };
  return {
    /** The leader's address ("" = no leader) plus the agent's Date header and our clock around the call, for skew. */
    async leader(): Promise<{ leader: string; date: string | null; sentAt: number; receivedAt: number }> {
      const sentAt = Date.now();
      const res = await get("/v1/status/leader");
      const receivedAt = Date.now();
      if (!res.ok) throw new Error(`consul /v1/status/leader: ${res.status} ${(await res.text()).trim()}`);
      return { leader: String(await res.json()), date: res.headers.get("date"), sentAt, receivedAt };
    },
    async reports(): Promise<Report[]> {
      const items = await json<Array<{ Key: string; Value: string | null; ModifyIndex: number }>>(`/v1/kv/${STATUS_PREFIX}?recurse=true`, []);
      return items.filter((e) => e.Value !== null && e.Key !== STATUS_PREFIX).map((e) => {
        const raw = Buffer.from(e.Value!, "base64").toString();
        let status: PublishedStatus | undefined;
        try {
          const parsed: unknown = JSON.parse(raw);
          status = typeof parsed === "object" && parsed !== null ? (parsed as PublishedStatus) : undefined;
        } catch {
          status = undefined; // shown as unreadable, not thrown: one odd key must not hide every other member
        }
        return { id: decodeURIComponent(e.Key.slice(STATUS_PREFIX.length)), status, raw, modifyIndex: e.ModifyIndex };
      });
    },
    async members(): Promise<RegisteredMember[]> {
      const services = Object.keys(await json<Record<string, unknown>>("/v1/catalog/services", {})).sort();
      const out: RegisteredMember[] = [];
      for (const name of services) {
        type Entry = { Service: { ID: string; Meta?: Record<string, string> | null }; Checks: Array<{ Status: string; Output: string; ServiceID: string }> };
        for (const e of await json<Entry[]>(`/v1/health/service/${encodeURIComponent(name)}`, [])) {
          const kind = e.Service.Meta?.kind;
          if (kind !== "sidecar" && kind !== "gateway") continue;
          // The member's own check (its admin /ready) says "ready config=N ... held=reason": kept for the detail.
          const { health, output } = memberHealth(e.Checks, e.Service.ID);
          out.push({ id: e.Service.ID, service: name, kind, health, checkOutput: output });
        }
      }
      return out;
    },
  };
}
export type ConsulReader = ReturnType<typeof consulReader>;
