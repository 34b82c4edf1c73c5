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
    async delete(key: string): Promise<boolean> {
      const res = await call("DELETE", key);
      if (!res.ok) throw new Error(`consul: ${res.status} ${await res.text()}`);
      return true;
    },
  };
}
