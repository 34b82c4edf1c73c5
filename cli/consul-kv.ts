// The few Consul KV calls meshctl needs (Consul 1.8 API): list, read with ModifyIndex, check-and-set write, delete.
// An unreachable agent is its own error type so meshctl can exit with code 2.
export class ConsulUnreachable extends Error {}

export type KvItem = { key: string; value: string; modifyIndex: number };

export function kvClient(consul: string, token: string | undefined) {
  const headers: Record<string, string> = token === undefined ? {} : { "X-Consul-Token": token };
  const call = async (method: string, path: string, body?: string): Promise<Response> => {
    try {
      return await fetch(`${consul}/v1/kv/${path}`, { method, headers, body, signal: AbortSignal.timeout(5000) });
    } catch (err) {
      throw new ConsulUnreachable(`consul at ${consul} unreachable: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  return {
    async list(prefix: string): Promise<KvItem[]> {
      const res = await call("GET", `${prefix}?recurse=true`);
      if (res.status === 404) return [];
      if (!res.ok) throw new Error(`consul: ${res.status} ${await res.text()}`);
      const body = (await res.json()) as Array<{ Key: string; Value: string | null; ModifyIndex: number }>;
      return body
        .filter((e) => !e.Key.endsWith("/"))
        .map((e) => ({ key: e.Key, value: e.Value === null ? "" : Buffer.from(e.Value, "base64").toString("utf8"), modifyIndex: e.ModifyIndex }));
    },
    /** Writes only if the key is still at `cas` (0 = must not exist yet); false means someone else changed it. */
    async put(key: string, value: string, cas: number): Promise<boolean> {
      const res = await call("PUT", `${key}?cas=${cas}`, value);
      if (!res.ok) throw new Error(`consul: ${res.status} ${await res.text()}`);
      return (await res.text()).trim() === "true";
    },
    /** With `cas`, deletes only if the key is still at that ModifyIndex; false means it changed meanwhile. */
    async delete(key: string, cas?: number): Promise<boolean> {
      const res = await call("DELETE", cas === undefined ? key : `${key}?cas=${cas}`);
      if (!res.ok) throw new Error(`consul: ${res.status} ${await res.text()}`);
      return (await res.text()).trim() !== "false";
    },
    /** All-or-nothing (Consul's /v1/txn, 1.8 API): readers never see a state between the operations. */
    async txn(ops: Array<{ Verb: "set" | "delete-tree"; Key: string; Value?: string }>): Promise<void> {
      let res: Response;
      try {
        const body = JSON.stringify(ops.map((op) => ({ KV: { ...op, Value: op.Value === undefined ? undefined : Buffer.from(op.Value).toString("base64") } })));
        res = await fetch(`${consul}/v1/txn`, { method: "PUT", headers, body, signal: AbortSignal.timeout(5000) });
      } catch (err) {
        throw new ConsulUnreachable(`consul at ${consul} unreachable: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (!res.ok) throw new Error(`consul transaction failed: ${res.status} ${await res.text()}`);
      await res.body?.cancel();
    },
  };
}

export type MemberStatus = { service: string; id: string; kind: string; address: string; health: string; config: string; source: string };

/** Every registered mesh member (Meta.kind sidecar or gateway) with its check status and the config its /ready reported. */
export async function meshStatus(consul: string, token: string | undefined): Promise<MemberStatus[]> {
  const headers: Record<string, string> = token === undefined ? {} : { "X-Consul-Token": token };
  const get = async (path: string): Promise<unknown> => {
    let res: Response;
    try {
      res = await fetch(`${consul}${path}`, { headers, signal: AbortSignal.timeout(5000) });
    } catch (err) {
      throw new ConsulUnreachable(`consul at ${consul} unreachable: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!res.ok) throw new Error(`consul: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const services = Object.keys((await get("/v1/catalog/services")) as Record<string, unknown>);
  // What each member applied, as it published it (sidecar/status-report.ts); 404 = nobody published yet.
  const applied = new Map<string, { config: number; source: string }>();
  try {
    for (const e of (await get("/v1/kv/mesh-status/?recurse=true")) as Array<{ Key: string; Value: string }>) {
      applied.set(decodeURIComponent(e.Key.slice("mesh-status/".length)), JSON.parse(Buffer.from(e.Value, "base64").toString()));
    }
  } catch (err) {
    if (err instanceof ConsulUnreachable || !String(err).includes("404")) throw err;
  }
  const members: MemberStatus[] = [];
  for (const name of services.sort()) {
    type Entry = { Node: { Address: string }; Service: { ID: string; Address: string; Port: number; Meta?: Record<string, string> }; Checks: Array<{ CheckID: string; Status: string; Output: string }> };
    for (const e of (await get(`/v1/health/service/${encodeURIComponent(name)}`)) as Entry[]) {
      const kind = e.Service.Meta?.kind;
      if (kind !== "sidecar" && kind !== "gateway") continue;
      const worst = e.Checks.some((c) => c.Status === "critical") ? "critical" : e.Checks.some((c) => c.Status === "warning") ? "warning" : "passing";
      members.push({
        service: name,
        id: e.Service.ID,
        kind,
        address: `${e.Service.Address || e.Node.Address}:${e.Service.Port}`,
        health: worst,
        config: String(applied.get(e.Service.ID)?.config ?? "?"),
        source: applied.get(e.Service.ID)?.source ?? "?",
      });
    }
  }
  return members;
}
