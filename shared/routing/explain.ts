// Dry-run routing for `meshctl explain` / `meshctl what-if`: the winner as the real table picks it, and for every
// other route the first condition that failed. Pure (Web-standard only), so it runs on every runtime.
import type { RequestHead } from "../types.ts";
import type { RouteConfig, RouteMatchConfig } from "../config/schema.ts";
import { buildRouteTable } from "./route-table.ts";
import { routeByPath } from "./route-path.ts";
import { anchoredRegex, compileHeaderMatch, compileQueryMatch } from "./match-conditions.ts";
import { routingHost, splitTarget } from "../http/url.ts";

export type ExplainRequest = { method: string; host: string; target: string; headers: Headers };

export type Candidate = { name: string; winner: boolean; failed: string | undefined };

export type RoutingExplanation =
  /** The path policy refused the request (400 invalid-path) before any route was asked. */
  | { ok: false; reason: string; candidates: Candidate[] }
  /** `winner` undefined: no route (404). `path` is the canonical path that was matched. */
  | { ok: true; path: string; winner: string | undefined; candidates: Candidate[] };

/**
 * The routes a member's mesh table holds, in declaration order: the configured ones, then the implicit
 * `default-<service>` route per service that compile.ts adds (a service is reachable by its name). Keep in step.
 */
export function meshRouteList(routes: readonly RouteConfig[] | undefined, services: readonly string[]): RouteConfig[] {
  const defaults: RouteConfig[] = services.map((name) => ({ name: `default-${name}`, match: { host: [name] }, action: { destinations: [{ service: name }] } }));
  return [...(routes ?? []), ...defaults];
}

function hostFailure(hosts: readonly string[] | undefined, host: string): string | undefined {
  const list = (hosts ?? []).map((h) => h.trim().toLowerCase());
  if (list.length === 0 || list.includes("*")) return undefined;
  for (const h of list) {
    if (h.startsWith("*.") ? host.endsWith(h.slice(1)) && host.length > h.length - 1 : h === host) return undefined;
  }
  return `host "${host}" is not one of ${list.join(", ")}`;
}

function pathFailure(path: RouteMatchConfig["path"], p: string): string | undefined {
  if (path === undefined) return undefined;
  if ("exact" in path) return p === path.exact ? undefined : `path "${p}" is not exactly "${path.exact}"`;
  if ("prefix" in path) return p.startsWith(path.prefix) ? undefined : `path "${p}" does not start with "${path.prefix}"`;
  return anchoredRegex(path.regex).test(p) ? undefined : `path "${p}" does not match regex ${path.regex}`;
}

/** Why `match` does not take `head` (the first failing condition, in the order host, path, method, header, query). */
export function matchFailure(match: RouteMatchConfig | undefined, head: RequestHead): string | undefined {
  const m = match ?? {};
  const failed = hostFailure(m.host, head.host) ?? pathFailure(m.path, head.path);
  if (failed !== undefined) return failed;
  if (m.methods !== undefined && m.methods.length > 0 && !m.methods.includes(head.method as never)) return `method ${head.method} is not one of ${m.methods.join(", ")}`;
  for (const h of m.headers ?? []) {
    if (!compileHeaderMatch(h)(head)) return `header ${h.name}: ${describeCondition(h)} fails on ${quoted(head.headers.get(h.name))}`;
  }
  for (const q of m.query ?? []) {
    if (!compileQueryMatch(q)(head)) return `query ${q.name}: ${describeCondition(q)} fails on ${quoted(head.query.get(q.name))}`;
  }
  return undefined;
}

function quoted(v: string | null): string {
  return v === null ? "(absent)" : `"${v}"`;
}

type Condition = { exact?: string | undefined; prefix?: string | undefined; regex?: string | undefined; present?: boolean | undefined; invert?: boolean | undefined };

function describeCondition(c: Condition): string {
  const parts: string[] = [];
  if (c.present !== undefined) parts.push(c.present ? "present" : "absent");
  if (c.exact !== undefined) parts.push(`= "${c.exact}"`);
  if (c.prefix !== undefined) parts.push(`starts with "${c.prefix}"`);
  if (c.regex !== undefined) parts.push(`~ ${c.regex}`);
  const text = parts.length === 0 ? "present" : parts.join(" and ");
  return c.invert === true ? `not (${text})` : text;
}

/** The precedence of route-table.ts for this request's host, as a sort key (lower first). */
function rank(route: RouteConfig, index: number, host: string): number[] {
  const m = route.match ?? {};
  const hosts = (m.host ?? []).map((h) => h.trim().toLowerCase());
  let hostRank = [3, 0];
  if (hosts.length === 0 || hosts.includes("*")) hostRank = [2, 0];
  else if (hosts.includes(host)) hostRank = [0, 0];
  else {
    const suffixes = hosts.filter((h) => h.startsWith("*.") && hostFailure([h], host) === undefined).map((h) => h.length - 1);
    if (suffixes.length > 0) hostRank = [1, -Math.max(...suffixes)];
  }
  const p = m.path;
  const pathRank = p === undefined ? [3, 0] : "exact" in p ? [0, 0] : "prefix" in p ? [1, -p.prefix.length] : [2, 0];
  const conditions = (m.headers?.length ?? 0) + (m.query?.length ?? 0) + (m.methods !== undefined && m.methods.length > 0 ? 1 : 0);
  return [...hostRank, ...pathRank, -conditions, index];
}

function byRank(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return 0;
}

/** The winner from the real table and path policy (route-table.ts, route-path.ts); the "why not" per route beside it. */
export function explainRouting(routes: readonly RouteConfig[], req: ExplainRequest): RoutingExplanation {
  const table = buildRouteTable(routes.map((r) => ({ name: r.name, match: r.match, value: r.name })));
  const host = routingHost(req.host);
  const method = req.method.toUpperCase();
  const { pathname, search } = splitTarget(req.target);
  const routed = routeByPath(table, method, host, req.headers, pathname, search);
  const head: RequestHead = routed.ok ? routed.head : { method, host, path: pathname, headers: req.headers, query: new URLSearchParams(search) };
  const winner = routed.ok ? routed.hit?.value : undefined;
  const candidates = routes
    .map((r, i) => ({ r, key: rank(r, i, host) }))
    .sort((a, b) => byRank(a.key, b.key))
    .map(({ r }): Candidate => {
      if (r.name === winner) return { name: r.name, winner: true, failed: undefined };
      // Every condition holds, yet another route won: it ranks lower (or ties and was declared later).
      return { name: r.name, winner: false, failed: matchFailure(r.match, head) ?? (winner === undefined ? "refused by the path policy" : `matches, but "${winner}" ranks first`) };
    });
  return routed.ok ? { ok: true, path: routed.head.path, winner, candidates } : { ok: false, reason: routed.reason, candidates };
}

export type ExampleRequest = { method: string; host: string; target: string; headers: Array<[string, string]> };

/**
 * A request the route's match takes, for what-if to route against the old and new config: the first host (a wildcard
 * gets a label), the exact path or prefix, the first method, and header/query values that satisfy each condition.
 * A regex path or regex value has no general witness; such requests may then not match, and what-if says so.
 */
export function exampleRequest(match: RouteMatchConfig | undefined): ExampleRequest {
  const m = match ?? {};
  const first = (m.host ?? []).find((h) => h !== "*");
  const host = first === undefined ? "any-host" : first.startsWith("*.") ? `example${first.slice(1)}` : first;
  const p = m.path;
  const path = p === undefined ? "/" : "exact" in p ? p.exact : "prefix" in p ? (p.prefix.startsWith("/") ? p.prefix : `/${p.prefix}`) : "/";
  const headers: Array<[string, string]> = [];
  for (const h of m.headers ?? []) {
    if (h.invert === true || h.present === false) continue;
    headers.push([h.name, h.exact ?? h.prefix ?? "1"]);
  }
  const query = (m.query ?? []).filter((q) => q.present !== false).map((q) => `${encodeURIComponent(q.name)}=${encodeURIComponent(q.exact ?? "1")}`);
  return { method: m.methods?.[0] ?? "GET", host, target: query.length === 0 ? path : `${path}?${query.join("&")}`, headers };
}
