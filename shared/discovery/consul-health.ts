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

/** Consul's view of one service: its passing instances, and how many it has registered at all (passing or not). */
export type ConsulServiceView = { passing: Endpoint[]; registered: number };

/**
 * The unfiltered health/service answer (no ?passing): the same passing set Consul's ?passing gives (every check
 * passing), plus the count of registered instances, which tells "Consul knows this service" from "Consul has none".
 */
export function parseHealthServiceView(body: unknown): ConsulServiceView {
  const all = parseHealthService(body);
  const failing = new Set<string>();
  for (const entry of body as unknown[]) {
    if (!isObj(entry) || !isObj(entry.Service)) continue;
    const checks = Array.isArray(entry.Checks) ? entry.Checks : [];
    if (checks.some((c) => !isObj(c) || c.Status !== "passing")) failing.add(String(entry.Service.ID));
  }
  return { passing: all.filter((e) => !failing.has(e.id)), registered: all.length };
}

export type CheckState = { Status: string; Output: string; ServiceID: string };

/**
 * One registration's standing as `meshctl check` and the console show it: its worst check (node checks included,
 * as Consul ranks an instance) and the output of its own checks (a member's /ready line says config and holds).
 */
export function memberHealth(checks: readonly CheckState[], serviceId: string): { health: "passing" | "warning" | "critical"; output: string } {
  const health = checks.some((c) => c.Status === "critical") ? "critical" : checks.some((c) => c.Status === "warning") ? "warning" : "passing";
  const output = checks.filter((c) => c.ServiceID === serviceId).map((c) => c.Output.trim()).filter((o) => o !== "").join("; ");
  return { health, output };
}
