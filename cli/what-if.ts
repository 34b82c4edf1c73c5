// `meshctl what-if -f change.yaml [--against current.yaml]`: what a proposed config would change against the current
// one (live KV by default): routes, services, authorization, and per changed route a request now routed differently.
import type { MeshConfig, RouteConfig } from "../shared/config/schema.ts";
import { exampleRequest, explainRouting, meshRouteList } from "../shared/routing/explain.ts";
import { loadConfig } from "./authz-check.ts";
import { UsageError } from "../member/cli.ts";
import type { CommandContext } from "./explain.ts";

export type RouteChange = {
  table: "mesh" | "gateway";
  name: string;
  change: "added" | "removed" | "changed";
  /** What differs: match, destinations, weights, policy, action (other action fields), tracing. */
  aspects: string[];
  weights?: { before: string; after: string };
  example?: { request: string; before: string; after: string };
};

export type WhatIf = {
  routes: RouteChange[];
  services: Array<{ name: string; change: "added" | "removed" | "changed"; aspects: string[] }>;
  authorization: Array<{ name: string; change: "added" | "removed" | "changed" }>;
  settings: string[];
};

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

function weightsOf(r: RouteConfig | undefined): string {
  const d = r?.action.destinations;
  if (d === undefined) return r?.action.directResponse !== undefined ? `direct ${r.action.directResponse.status}` : r?.action.redirect !== undefined ? "redirect" : "-";
  return d.map((x) => `${x.subset === undefined ? x.service : `${x.service}/${x.subset}`} ${x.weight ?? 1}`).join(", ");
}

function routeAspects(a: RouteConfig, b: RouteConfig): string[] {
  const out: string[] = [];
  if (!same(a.match, b.match)) out.push("match");
  const strip = (r: RouteConfig) => r.action.destinations?.map((d) => ({ service: d.service, subset: d.subset }));
  if (!same(strip(a), strip(b))) out.push("destinations");
  else if (!same(a.action.destinations?.map((d) => d.weight ?? 1), b.action.destinations?.map((d) => d.weight ?? 1))) out.push("weights");
  if (!same(a.action.policy, b.action.policy)) out.push("policy");
  const rest = (r: RouteConfig) => ({ ...r.action, destinations: undefined, policy: undefined });
  if (!same(rest(a), rest(b))) out.push("action");
  if (!same(a.tracing, b.tracing)) out.push("tracing");
  return out;
}

/** Where the table sends the request: the route and its destinations with weights, or why nothing takes it. */
function outcome(routes: readonly RouteConfig[], req: ReturnType<typeof exampleRequest>): string {
  const r = explainRouting(routes, { method: req.method, host: req.host, target: req.target, headers: new Headers(req.headers) });
  if (!r.ok) return `refused (${r.reason})`;
  if (r.winner === undefined) return "no route (404)";
  return `${r.winner}: ${weightsOf(routes.find((x) => x.name === r.winner))}`;
}

function diffTable(table: "mesh" | "gateway", before: readonly RouteConfig[], after: readonly RouteConfig[], fullBefore: readonly RouteConfig[], fullAfter: readonly RouteConfig[]): RouteChange[] {
  const out: RouteChange[] = [];
  const old = new Map(before.map((r) => [r.name, r]));
  const next = new Map(after.map((r) => [r.name, r]));
  for (const name of new Set([...old.keys(), ...next.keys()])) {
    const a = old.get(name);
    const b = next.get(name);
    const change = a === undefined ? "added" : b === undefined ? "removed" : "changed";
    const aspects = a !== undefined && b !== undefined ? routeAspects(a, b) : [];
    if (change === "changed" && aspects.length === 0) continue;
    const req = exampleRequest((b ?? a)!.match);
    const shown = `${req.method} ${req.host} ${req.target}${req.headers.map(([k, v]) => ` -H '${k}: ${v}'`).join("")}`;
    const entry: RouteChange = { table, name, change, aspects, example: { request: shown, before: outcome(fullBefore, req), after: outcome(fullAfter, req) } };
    if (aspects.includes("weights") || aspects.includes("destinations") || change !== "changed") entry.weights = { before: weightsOf(a), after: weightsOf(b) };
    out.push(entry);
  }
  return out;
}

export function whatIf(current: MeshConfig, proposed: MeshConfig): WhatIf {
  const cs = current.services ?? {};
  const ps = proposed.services ?? {};
  const routes = [
    ...diffTable("mesh", current.routes ?? [], proposed.routes ?? [], meshRouteList(current.routes, Object.keys(cs)), meshRouteList(proposed.routes, Object.keys(ps))),
    ...diffTable("gateway", current.gateway?.routes ?? [], proposed.gateway?.routes ?? [], current.gateway?.routes ?? [], proposed.gateway?.routes ?? []),
  ];
  const services: WhatIf["services"] = [];
  for (const name of new Set([...Object.keys(cs), ...Object.keys(ps)])) {
    const a = cs[name];
    const b = ps[name];
    if (a === undefined || b === undefined) {
      services.push({ name, change: a === undefined ? "added" : "removed", aspects: [] });
      continue;
    }
    const aspects = (["instances", "subsets", "policy", "mtls", "protocol"] as const).filter((k) => !same(a[k], b[k]));
    if (aspects.length > 0) services.push({ name, change: "changed", aspects: [...aspects] });
  }
  const authorization: WhatIf["authorization"] = [];
  const ca = current.authorization ?? {};
  const pa = proposed.authorization ?? {};
  for (const name of new Set([...Object.keys(ca), ...Object.keys(pa)])) {
    if (same(ca[name], pa[name])) continue;
    authorization.push({ name, change: ca[name] === undefined ? "added" : pa[name] === undefined ? "removed" : "changed" });
  }
  const settings = (["trustDomain", "namespace", "limits", "tracing", "defaultAuthorization"] as const).filter((k) => !same(current[k], proposed[k])).map(String);
  if (!same({ ...current.gateway, routes: undefined }, { ...proposed.gateway, routes: undefined })) settings.push("gateway (name, listeners)");
  return { routes, services, authorization, settings };
}

export function hasChanges(w: WhatIf): boolean {
  return w.routes.length + w.services.length + w.authorization.length + w.settings.length > 0;
}

export function formatWhatIf(w: WhatIf): string {
  if (!hasChanges(w)) return "no changes";
  const sign = (c: string) => (c === "added" ? "+" : c === "removed" ? "-" : "~");
  const out: string[] = [];
  for (const r of w.routes) {
    out.push(`${sign(r.change)} route ${r.table}/${r.name}${r.aspects.length === 0 ? ` (${r.change})` : `: ${r.aspects.join(", ")}`}`);
    if (r.weights !== undefined) out.push(`    weights: ${r.weights.before} → ${r.weights.after}`);
    if (r.example !== undefined) out.push(`    e.g. ${r.example.request}`, `      before: ${r.example.before}`, `      after:  ${r.example.after}`);
  }
  for (const s of w.services) out.push(`${sign(s.change)} service ${s.name}${s.aspects.length === 0 ? ` (${s.change})` : `: ${s.aspects.join(", ")}`}`);
  for (const a of w.authorization) out.push(`${sign(a.change)} authorization ${a.name} (${a.change})`);
  for (const s of w.settings) out.push(`~ settings: ${s}`);
  return out.join("\n");
}

export type WhatIfFlags = { file?: string; against?: string };

/** The command: the proposed file against --against FILE or the live KV documents. */
export async function runWhatIf(values: WhatIfFlags, ctx: CommandContext): Promise<WhatIf> {
  if (values.file === undefined) throw new UsageError("usage: meshctl what-if -f FILE [--against CURRENT-FILE | --consul ADDR --kv-prefix PREFIX]");
  const proposed = await loadConfig({ file: values.file });
  const current = values.against !== undefined ? await loadConfig({ file: values.against }) : await loadConfig({ kvItems: await ctx.kvItems(), prefix: ctx.prefix });
  return whatIf(current, proposed);
}
