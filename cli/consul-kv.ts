// The few Consul calls meshctl needs (Consul 1.8 API), through the consul client: KV list, check-and-set write,
// delete, one transaction, and the member status view. An unreachable agent is its own error type (exit code 2).
import { consulClient, consulStatus, type ConsulClient } from "../member/consul/client.ts";

export class ConsulUnreachable extends Error {}

export type KvItem = { key: string; value: string; modifyIndex: number };

/** Runs one client call; an error Consul never answered (refused, timed out) becomes ConsulUnreachable. */
async function call<T>(consul: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (consulStatus(err) !== undefined) throw err;
    throw new ConsulUnreachable(`consul at ${consul} unreachable: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function kvClient(consul: string, token: string | undefined) {
  const client: ConsulClient = consulClient(consul, token);
  return {
    async list(prefix: string): Promise<KvItem[]> {
      // A prefix with no keys is a 404, which the client answers with undefined data.
      const items = (await call(consul, () => client.kv.get({ key: prefix, recurse: true }))) ?? [];
      return (Array.isArray(items) ? items : [items])
        .filter((e) => !e.Key.endsWith("/"))
        .map((e) => ({ key: e.Key, value: e.Value ?? "", modifyIndex: e.ModifyIndex }));
    },
    /** Writes only if the key is still at `cas` (0 = must not exist yet); false means someone else changed it. */
    async put(key: string, value: string, cas: number): Promise<boolean> {
      // Consul answers `true` or `false`; the client hands `false` back as undefined.
      return (await call(consul, () => client.kv.set({ key, value, cas }))) === true;
    },
    /** With `cas`, deletes only if the key is still at that ModifyIndex; false means it changed meanwhile. */
    async delete(key: string, cas?: number): Promise<boolean> {
      return (await call(consul, () => client.kv.del(cas === undefined ? { key } : { key, cas }))) === true;
    },
    /** All-or-nothing (Consul's /v1/txn, 1.8 API): readers never see a state between the operations. */
    async txn(ops: Array<{ Verb: "set" | "delete-tree"; Key: string; Value?: string }>): Promise<void> {
      // The client sends the operations as they are, so they carry the agent's own names and a base64 Value.
      const operations = ops.map((op) => ({ KV: { ...op, Value: op.Value === undefined ? undefined : Buffer.from(op.Value).toString("base64") } }));
      // Its typings say create(options), its code takes create(operations): typed here as the code runs.
      const txn = client.transaction as unknown as { create(operations: unknown[]): Promise<unknown> };
      try {
        await call(consul, () => txn.create(operations));
      } catch (err) {
        if (err instanceof ConsulUnreachable) throw err;
        const body = (err as { response?: { body?: unknown } }).response?.body; // Consul's {"Errors": [...]}
        throw new Error(`consul transaction failed: ${consulStatus(err)} ${body === undefined ? String(err) : JSON.stringify(body)}`);
      }
    },
  };
}

export type MemberStatus = { service: string; id: string; kind: string; address: string; health: string; config: string; source: string };

type HealthEntry = { Node: { Address: string }; Service: { ID: string; Address: string; Port: number; Meta?: Record<string, string> }; Checks: Array<{ CheckID: string; Status: string; Output: string }> };

/** Every registered mesh member (Meta.kind sidecar or gateway) with its check status and the config its /ready reported. */
export async function meshStatus(consul: string, token: string | undefined): Promise<MemberStatus[]> {
  const client = consulClient(consul, token);
  const services = Object.keys(await call(consul, () => client.catalog.service.list()));
  // What each member applied, as it published it (member/status-report.ts); 404 (undefined) = nobody published yet.
  const applied = new Map<string, { config: number; source: string }>();
  const published = (await call(consul, () => client.kv.get({ key: "mesh-status/", recurse: true }))) ?? [];
  for (const e of Array.isArray(published) ? published : [published]) {
    if (e.Value === null) continue;
    applied.set(decodeURIComponent(e.Key.slice("mesh-status/".length)), JSON.parse(e.Value));
  }
  const members: MemberStatus[] = [];
  for (const name of services.sort()) {
    for (const e of (await call(consul, () => client.health.service({ service: name }))) as HealthEntry[]) {
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
