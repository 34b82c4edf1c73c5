// Consul's health/service answer as Endpoints: pure mapping (the watch that asks Consul lives in
// member/consul/health-watch.ts, since the Consul client needs a runtime HTTP stack and this folder stays runtime-neutral).
import type { Endpoint } from "../types.ts";

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObj(v)) return out;
  // Sorted keys so two equal maps serialize the same when sets are compared.
  for (const k of Object.keys(v).sort()) {
    const val = v[k];
    if (typeof val === "string") out[k] = val;
  }
  return out;
}

/** Maps a /v1/health/service response to endpoints sorted by id; throws on a malformed body. */
export function parseHealthService(body: unknown): Endpoint[] {
  if (!Array.isArray(body)) throw new Error("health/service: expected a JSON array");
  const eps = body.map((entry: unknown, i): Endpoint => {
    const svc = isObj(entry) ? entry.Service : undefined;
    const node = isObj(entry) ? entry.Node : undefined;
    if (!isObj(svc) || typeof svc.ID !== "string" || typeof svc.Port !== "number") {
      throw new Error(`health/service: entry ${i} has no Service.ID/Port`);
    }
    const svcAddr = typeof svc.Address === "string" ? svc.Address : "";
    const nodeAddr = isObj(node) && typeof node.Address === "string" ? node.Address : "";
    const address = svcAddr || nodeAddr;
    if (address === "") throw new Error(`health/service: entry ${i} (${svc.ID}) has no address`);
    const tags = Array.isArray(svc.Tags) ? svc.Tags.filter((t): t is string => typeof t === "string") : [];
    return { id: svc.ID, address, port: svc.Port, tags, meta: stringMap(svc.Meta) };
  });
  return eps.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
