// `meshctl explain --host H --path P [-H 'k: v'] [--method M] [--from SVC] [--gateway]`: a dry run of one request
// against the config — route (and why not the others), path verdict, split, clusters, policy, fast path, authorization.
import type { MeshConfig, PolicyConfig, RouteConfig, ServiceConfig } from "../shared/config/schema.ts";
import type { Endpoint } from "../shared/types.ts";
import { explainRouting, meshRouteList, type Candidate } from "../shared/routing/explain.ts";
import { resolvePolicy } from "../shared/build/policy.ts";
import { relayableHeaderOps } from "../shared/build/route-handler.ts";
import { selectSubset } from "../shared/upstream/subset.ts";
import { DEFAULTS } from "../shared/config/defaults.ts";
import { rewritePrefix } from "../shared/filters/rewrite.ts";
import { parseHealthService } from "../shared/discovery/consul-health.ts";
import { authzCheck, loadConfig } from "./authz-check.ts";
import { UsageError } from "../member/cli.ts";
import { ConsulUnreachable } from "./consul-kv.ts";

export type ExplainInput = { host: string; path: string; method: string; headers: string[]; from: string | undefined; gateway: boolean };

export type DestinationExplained = {
  service: string;
  subset: string | undefined;
  weight: number;
  percent: number;
  cluster: string;
  policy: { loadBalancer: string; timeoutMs: number; connectTimeoutMs: number; retries: { retries: number; on: string[]; perTryTimeoutMs: number | undefined; backoffMs: number } | undefined };
  /** The config's instances in the subset; `consul` the passing ones Consul reports (undefined: not asked). */
  endpoints: { config: string[]; consul: string[] | undefined };
};

export type AuthzExplained = { service: string; allowed: boolean; rule: string | undefined; reason: string };

export type Explanation = {
  request: { method: string; host: string; path: string; table: "mesh" | "gateway" };
  pathVerdict: { ok: true; canonical: string } | { ok: false; refused: string };
  route: string | undefined;
  candidates: Candidate[];
  action: "destinations" | "directResponse" | "redirect" | undefined;
  directResponse?: { status: number; body?: string | undefined };
  redirect?: Record<string, unknown>;
  upstreamPath: string | undefined;
  split: DestinationExplained[];
  routeFilters: { rateLimit?: unknown; fault?: unknown; inboundRateLimit?: Record<string, unknown>; inboundFault?: Record<string, unknown>; rewrite?: string; mirror?: unknown; headerEdits: boolean };
  fastPath: { fast: boolean; reason: string };
  /** undefined: --from not given, so the inbound verdict was not evaluated. */
  authorization: AuthzExplained[] | undefined;
  /** What the exit code says: only "routed" is 0. */
  outcome: "routed" | "no-route" | "refused" | "denied";
};

const HASHED = new Set(["ring_hash", "maglev"]);

/**
 * fastRouteOf (shared/build/route-handler.ts) and the outbound planner (shared/proxy/outbound-relay-plan.ts) as a
 * verdict with its reason; it needs no cluster registry. Keep in step.
 */
export function fastPathOf(route: RouteConfig, services: Readonly<Record<string, ServiceConfig>>): { fast: boolean; reason: string } {
  const a = route.action;
  const no = (reason: string) => ({ fast: false, reason });
  if (a.directResponse !== undefined || a.redirect !== undefined) return no("a direct response or redirect is answered by the route itself");
  if (a.destinations === undefined || a.destinations.length === 0) return no("no destinations");
  if (a.rewrite !== undefined) return no("the route rewrites the path");
  if (!relayableHeaderOps(a.requestHeaders) || !relayableHeaderOps(a.responseHeaders)) return no("the route edits host, framing, request-id or hop-by-hop headers");
  if (a.mirror !== undefined && (a.mirror.percent ?? DEFAULTS.mirror.percent) > 0) return no("the route mirrors traffic");
  let retries = false;
  let breaker = false;
  const hashing = new Set<string>();
  for (const d of a.destinations) {
    const svc = services[d.service];
    if (svc === undefined) return no(`unknown service ${d.service}`);
    const policy = resolvePolicy(svc.policy, a.policy);
    retries ||= policy.retries !== undefined;
    breaker ||= svc.policy?.circuitBreaker !== undefined;
    if (policy.hashOn !== undefined && HASHED.has(policy.loadBalancer)) hashing.add(policy.loadBalancer);
  }
  const n = a.destinations.length;
  // What the relay applies on the head besides the timeout, and which requests it still hands to the full path.
  const extras = [
    ...(retries ? ["retries (requests with a body take the full path, which replays them)"] : []),
    ...[...hashing].map((lb) => `${lb} affinity`),
    ...(breaker ? ["a circuit breaker (a request it has no room for takes the full path, which queues or refuses it)"] : []),
    ...(a.policy?.rateLimit !== undefined ? ["a rate limit (a request without a token takes the full path: 429)"] : []),
    ...(a.policy?.fault !== undefined ? ["a fault (a request it targets takes the full path)"] : []),
  ];
  const what = n === 1 ? "one destination and nothing but a timeout before the cluster" : `a split over ${n} destinations, each with nothing but a timeout before its cluster`;
  if (extras.length === 0) return { fast: true, reason: what };
  return { fast: true, reason: `${n === 1 ? "one destination" : `a split over ${n} destinations`}, with a timeout and ${extras.join(", ")}` };
}

function policyOf(service: PolicyConfig | undefined, route: PolicyConfig | undefined): DestinationExplained["policy"] {
  const p = resolvePolicy(service, route);
  const r = p.retries;
  return {
    loadBalancer: p.loadBalancer,
    timeoutMs: p.timeoutMs,
    connectTimeoutMs: p.connectTimeoutMs,
    // Config counts retries (attempts: 3 = up to 4 tries); the compiled policy counts tries.
    retries: r === undefined ? undefined : { retries: r.attempts - 1, on: [...r.on].map(String), perTryTimeoutMs: r.perTryTimeoutMs, backoffMs: r.backoffMs },
  };
}

function endpointNames(list: readonly Endpoint[]): string[] {
  return list.map((e) => `${e.id} ${e.address}:${e.port}`);
}

function staticEndpoints(svc: ServiceConfig | undefined): Endpoint[] {
  return (svc?.instances ?? []).map((i) => ({ id: i.id, address: i.address, port: i.port, tags: i.tags ?? [], meta: i.meta ?? {} }));
}

function headersOf(lines: readonly string[]): Headers {
  const headers = new Headers();
  for (const h of lines) {
    const colon = h.indexOf(":");
    if (colon <= 0) throw new Error(`-H "${h}": expected "name: value"`);
    headers.append(h.slice(0, colon).trim(), h.slice(colon + 1).trim());
  }
  return headers;
}

/** Pure: `passing` holds Consul's passing instances per service when the config came from Consul. */
export function explain(config: MeshConfig, input: ExplainInput, passing?: ReadonlyMap<string, Endpoint[]>): Explanation {
  const services = config.services ?? {};
  const routes = input.gateway ? (config.gateway?.routes ?? []) : meshRouteList(config.routes, Object.keys(services));
  const method = input.method.toUpperCase();
  const routing = explainRouting(routes, { method, host: input.host, target: input.path, headers: headersOf(input.headers) });
  const route = routing.ok && routing.winner !== undefined ? routes.find((r) => r.name === routing.winner) : undefined;
  const a = route?.action;
  const canonical = routing.ok ? routing.path : undefined;
  const prefix = route?.match?.path !== undefined && "prefix" in route.match.path ? route.match.path.prefix : undefined;
  const upstreamPath = canonical === undefined ? undefined : a?.rewrite !== undefined && prefix !== undefined ? (rewritePrefix(canonical, prefix, a.rewrite.prefix) ?? canonical) : canonical;
  const dests = a?.destinations ?? [];
  const total = dests.reduce((s, d) => s + (d.weight ?? 1), 0);
  const split = dests.map((d): DestinationExplained => {
    const svc = services[d.service];
    const selector = d.subset === undefined ? undefined : svc?.subsets?.[d.subset];
    const weight = d.weight ?? 1;
    const consul = passing?.get(d.service);
    return {
      service: d.service,
      subset: d.subset,
      weight,
      percent: total === 0 ? 0 : Math.round((weight / total) * 1000) / 10,
      cluster: d.subset === undefined ? d.service : `${d.service}/${d.subset}`,
      policy: policyOf(svc?.policy, a?.policy),
      endpoints: { config: endpointNames(selectSubset(staticEndpoints(svc), selector)), consul: consul === undefined ? undefined : endpointNames(selectSubset(consul, selector)) },
    };
  });
  const inboundRateLimit: Record<string, unknown> = {};
  const inboundFault: Record<string, unknown> = {};
  for (const d of new Set(dests.map((x) => x.service))) {
    const p = services[d]?.policy;
    if (p?.rateLimit !== undefined) inboundRateLimit[d] = p.rateLimit;
    if (p?.fault !== undefined) inboundFault[d] = p.fault;
  }
  const authorization =
    input.from === undefined || upstreamPath === undefined
      ? undefined
      : [...new Set(dests.map((d) => d.service))].map((service): AuthzExplained => {
          const r = authzCheck(config, { from: input.from, to: service, method, target: upstreamPath, headers: input.headers });
          return { service, allowed: r.verdict.allowed, rule: r.verdict.rule, reason: r.verdict.reason };
        });
  const outcome = !routing.ok ? "refused" : route === undefined ? "no-route" : authorization?.some((z) => !z.allowed) ? "denied" : "routed";
  return {
    request: { method, host: input.host, path: input.path, table: input.gateway ? "gateway" : "mesh" },
    pathVerdict: routing.ok ? { ok: true, canonical: routing.path } : { ok: false, refused: routing.reason },
    route: route?.name,
    candidates: routing.candidates,
    action: a === undefined ? undefined : a.directResponse !== undefined ? "directResponse" : a.redirect !== undefined ? "redirect" : "destinations",
    ...(a?.directResponse === undefined ? {} : { directResponse: a.directResponse }),
    ...(a?.redirect === undefined ? {} : { redirect: a.redirect }),
    upstreamPath,
    split,
    routeFilters: {
      ...(a?.policy?.rateLimit === undefined ? {} : { rateLimit: a.policy.rateLimit }),
      ...(a?.policy?.fault === undefined ? {} : { fault: a.policy.fault }),
      ...(Object.keys(inboundRateLimit).length === 0 ? {} : { inboundRateLimit }),
      ...(Object.keys(inboundFault).length === 0 ? {} : { inboundFault }),
      ...(a?.rewrite === undefined ? {} : { rewrite: a.rewrite.prefix }),
      ...(a?.mirror === undefined ? {} : { mirror: a.mirror }),
      headerEdits: a?.requestHeaders !== undefined || a?.responseHeaders !== undefined,
    },
    fastPath: route === undefined ? { fast: false, reason: "no route" } : fastPathOf(route, services),
    authorization,
    outcome,
  };
}

function ms(n: number): string {
  return n % 1000 === 0 ? `${n / 1000}s` : `${n}ms`;
}

export function formatExplain(e: Explanation): string {
  const out: string[] = [`${e.request.method} ${e.request.host} ${e.request.path}  (${e.request.table} routes)`];
  out.push(e.pathVerdict.ok ? `path: ok, canonical "${e.pathVerdict.canonical}"` : `path: REFUSED (400 invalid-path): ${e.pathVerdict.refused}`);
  out.push(e.route === undefined ? (e.pathVerdict.ok ? "route: NONE (404 no route)" : "route: none asked (the path is refused first)") : `route: ${e.route}`);
  out.push("routes in precedence order:");
  for (const c of e.candidates) out.push(c.winner ? `  ✔ ${c.name}  (matches)` : `  ✘ ${c.name}: ${c.failed}`);
  if (e.action === "directResponse") out.push(`action: direct response ${e.directResponse?.status}${e.directResponse?.body === undefined ? "" : ` "${e.directResponse.body}"`}`);
  if (e.action === "redirect") out.push(`action: redirect ${JSON.stringify(e.redirect)}`);
  if (e.split.length > 0) {
    const canonical = e.pathVerdict.ok ? e.pathVerdict.canonical : undefined;
    out.push(`split${e.upstreamPath === undefined || e.upstreamPath === canonical ? "" : ` (upstream path "${e.upstreamPath}")`}:`);
    for (const d of e.split) {
      const p = d.policy;
      const retries = p.retries === undefined ? "no retries" : `retries ${p.retries.retries} on ${p.retries.on.join(",")}${p.retries.perTryTimeoutMs === undefined ? "" : ` per try ${ms(p.retries.perTryTimeoutMs)}`} backoff ${ms(p.retries.backoffMs)}`;
      out.push(`  → ${d.cluster}  weight ${d.weight} (${d.percent}%)`);
      out.push(`      policy: timeout ${ms(p.timeoutMs)}, connect ${ms(p.connectTimeoutMs)}, ${retries}, lb ${p.loadBalancer}`);
      out.push(`      instances (config): ${d.endpoints.config.join(", ") || "none"}`);
      if (d.endpoints.consul !== undefined) out.push(`      passing in Consul: ${d.endpoints.consul.join(", ") || "none"}`);
    }
  }
  const f = e.routeFilters;
  const filters = [
    f.rateLimit === undefined ? undefined : `rate limit ${JSON.stringify(f.rateLimit)}`,
    f.fault === undefined ? undefined : `fault ${JSON.stringify(f.fault)}`,
    f.rewrite === undefined ? undefined : `rewrite prefix → "${f.rewrite}"`,
    f.mirror === undefined ? undefined : `mirror ${JSON.stringify(f.mirror)}`,
    f.headerEdits ? "header edits" : undefined,
    ...Object.entries(f.inboundRateLimit ?? {}).map(([s, r]) => `${s} inbound rate limit ${JSON.stringify(r)}`),
    ...Object.entries(f.inboundFault ?? {}).map(([s, r]) => `${s} inbound fault ${JSON.stringify(r)}`),
  ].filter((x) => x !== undefined);
  if (e.route !== undefined) out.push(`filters: ${filters.join("; ") || "none (no rate limit, no fault)"}`);
  if (e.route !== undefined) out.push(`fast path: ${e.fastPath.fast ? "yes" : "no"} (${e.fastPath.reason})`);
  if (e.authorization === undefined) {
    if (e.split.length > 0) out.push("authorization: not evaluated (pass --from SERVICE to see the destination's inbound verdict)");
  } else {
    for (const z of e.authorization) out.push(`authorization at ${z.service}: ${z.allowed ? "ALLOW" : "DENY"}  ${z.reason}`);
  }
  return out.join("\n");
}

/** Consul's passing instances of each service (read-only `GET /v1/health/service/<name>?passing`). */
export async function passingInstances(consul: string, token: string | undefined, services: Iterable<string>): Promise<Map<string, Endpoint[]>> {
  const out = new Map<string, Endpoint[]>();
  for (const name of new Set(services)) {
    let res: Response;
    try {
      res = await fetch(`${consul}/v1/health/service/${encodeURIComponent(name)}?passing`, { headers: token === undefined ? {} : { "X-Consul-Token": token } });
    } catch (err) {
      throw new ConsulUnreachable(`consul at ${consul} unreachable: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!res.ok) throw new Error(`consul health/service/${name}: ${res.status} ${await res.text()}`);
    out.set(name, parseHealthService(await res.json()));
  }
  return out;
}

export type CommandContext = { kvItems: () => Promise<Array<{ key: string; value: string }>>; prefix: string; consul: string; token: string | undefined };
export type ExplainFlags = { host?: string; path?: string; method?: string; header?: string[]; from?: string; file?: string; gateway?: boolean };

/** The command: the config from -f or the live KV documents; with KV, Consul's passing instances too. */
export async function runExplain(values: ExplainFlags, ctx: CommandContext): Promise<Explanation> {
  if (values.host === undefined || values.path === undefined) throw new UsageError("usage: meshctl explain --host HOST --path PATH [--method M] [-H 'name: value']... [--from SERVICE] [--gateway] [-f FILE]");
  const input: ExplainInput = { host: values.host, path: values.path, method: values.method ?? "GET", headers: values.header ?? [], from: values.from, gateway: values.gateway === true };
  if (values.file !== undefined) return explain(await loadConfig({ file: values.file }), input);
  const config = await loadConfig({ kvItems: await ctx.kvItems(), prefix: ctx.prefix });
  const first = explain(config, input);
  if (first.split.length === 0) return first;
  return explain(config, input, await passingInstances(ctx.consul, ctx.token, first.split.map((d) => d.service)));
}
