// Semantic checks for one route: matches that compile and make sense, and an action that says one thing.
// Cross-references (services, subsets) are checked here too, against the declared services.
import type { RouteConfig, RouteMatchConfig, RouteActionConfig, ServiceConfig } from "./schema.ts";
import { validatePolicy, type Report } from "./validate-policy.ts";
import { canonicalizePath } from "../http/canonical-path.ts";
import { isTcp, TCP_DESTINATION } from "./validate-tcp.ts";

/** Requests are matched on their canonical path, so a non-canonical config path could never match. */
function checkCanonical(value: string, path: string, report: Report): void {
  if (!value.startsWith("/")) return report(path, `must start with "/"`);
  const c = canonicalizePath(value, "");
  if (!c.ok) return report(path, `can never match: ${c.reason}`);
  if (c.path !== value && !(value.endsWith("/") && c.path === value.slice(0, -1))) {
    report(path, `can never match: requests are matched on the canonical path; write "${c.path}"`);
  }
}

type Services = Readonly<Record<string, ServiceConfig>>;

/** Why a regex does not compile, without the engine's "Invalid regular expression: /x/:" preamble. */
function regexError(source: string): string | undefined {
  try {
    new RegExp(source);
    return undefined;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return msg.replace(/^Invalid regular expression: (\/.*\/[a-z]*: )?/, "");
  }
}

function checkRegex(source: string | undefined, path: string, report: Report): void {
  if (source === undefined) return;
  const err = regexError(source);
  if (err !== undefined) report(path, `invalid regular expression (${err})`);
}

function checkExactlyOne(obj: object, keys: readonly string[], path: string, report: Report): void {
  const found = keys.filter((k) => (obj as Record<string, unknown>)[k] !== undefined);
  if (found.length === 1) return;
  const list = keys.slice(0, -1).join(", ") + " or " + keys[keys.length - 1];
  report(path, `needs exactly one of ${list} (found ${found.length === 0 ? "none" : found.join(" and ")})`);
}

function validateMatch(match: RouteMatchConfig, path: string, report: Report): void {
  const p = match.path;
  if (p !== undefined) {
    if ("exact" in p) checkCanonical(p.exact, `${path}.path.exact`, report);
    if ("prefix" in p) checkCanonical(p.prefix, `${path}.path.prefix`, report);
    if ("regex" in p) checkRegex(p.regex, `${path}.path.regex`, report);
  }
  match.host?.forEach((h, j) => {
    // Hosts are compared without the port (and lowercased), so "a.com:8443" would silently never match.
    if (/:\d*$/.test(h) && !h.startsWith("[")) report(`${path}.host[${j}]`, "must not include a port: hosts are matched without it");
  });
  match.headers?.forEach((h, j) => {
    const hp = `${path}.headers[${j}]`;
    checkExactlyOne(h, ["exact", "prefix", "regex", "present"], hp, report);
    checkRegex(h.regex, `${hp}.regex`, report);
  });
  match.query?.forEach((q, j) => {
    const qp = `${path}.query[${j}]`;
    checkExactlyOne(q, ["exact", "regex", "present"], qp, report);
    checkRegex(q.regex, `${qp}.regex`, report);
  });
}

function checkDestination(service: string, subset: string | undefined, path: string, services: Services, report: Report): ServiceConfig | undefined {
  const svc = Object.hasOwn(services, service) ? services[service] : undefined;
  if (svc === undefined) report(`${path}.service`, `unknown service "${service}" (declare it under services)`);
  else if (isTcp(svc)) report(`${path}.service`, TCP_DESTINATION(service));
  else if (subset !== undefined && !Object.hasOwn(svc.subsets ?? {}, subset)) report(`${path}.subset`, `service "${service}" has no subset "${subset}"`);
  return svc;
}

function validateAction(action: RouteActionConfig, path: string, services: Services, callers: Record<string, unknown>, report: Report): void {
  checkExactlyOne(action, ["destinations", "redirect", "directResponse"], path, report);
  if (action.rewrite !== undefined) {
    if (action.destinations === undefined) report(`${path}.rewrite`, "only allowed together with destinations");
    if (!action.rewrite.prefix.startsWith("/")) report(`${path}.rewrite.prefix`, `must start with "/"`);
  }
  const dests = action.destinations ?? [];
  // A missing weight counts as 1, so `[a, b]` is an even split and a lone destination always gets traffic.
  if (dests.length > 0 && dests.reduce((sum, d) => sum + (d.weight ?? 1), 0) <= 0) {
    report(`${path}.destinations`, "total weight must be greater than 0");
  }
  dests.forEach((d, j) => {
    const dp = `${path}.destinations[${j}]`;
    const svc = checkDestination(d.service, d.subset, dp, services, report);
    // The balancer and what it hashes may come from the route or the service; together they must make sense.
    // (A hashing balancer set on the service without hashOn is reported there, once.)
    const lb = action.policy?.loadBalancer;
    if ((lb === "ring_hash" || lb === "maglev") && (action.policy?.hashOn ?? svc?.policy?.hashOn) === undefined) {
      report(`${dp}`, `loadBalancer ${lb} needs hashOn (a header, a cookie or the caller), on the route's policy or the service's`);
    }
  });
  if (action.policy !== undefined) validatePolicy(action.policy, `${path}.policy`, report, { kind: "route", callers });
  if (action.mirror !== undefined) {
    if (action.destinations === undefined) report(`${path}.mirror`, "only allowed together with destinations");
    checkDestination(action.mirror.service, action.mirror.subset, `${path}.mirror`, services, report);
  }
}

export function validateRoute(route: RouteConfig, path: string, services: Services, callers: Record<string, unknown>, report: Report): void {
  if (route.match !== undefined) validateMatch(route.match, `${path}.match`, report);
  validateAction(route.action, `${path}.action`, services, callers, report);
}
