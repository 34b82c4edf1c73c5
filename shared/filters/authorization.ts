// Inbound authorization: a service's policy compiled once per snapshot into a verdict function, and the filter that
// applies it to the caller (verified SPIFFE id, or none). Deny wins; then allow rules; then the default (verified only).
import type { Filter } from "../types.ts";
import { UNAUTHENTICATED, type AuthzPolicyConfig, type AuthzRuleConfig } from "../config/schema.ts";
import { parseSpiffeId } from "../pki/spiffe.ts";
import { anchoredRegex } from "../routing/match-conditions.ts";
import { errorResponse } from "../http/errors.ts";
import { splitUrl } from "../http/url.ts";

export type AuthzVerdict = { readonly allowed: boolean; readonly rule: string | undefined; readonly reason: string };
/** `peer` undefined: a caller without an identity (plaintext, accepted by a "permissive" inbound). */
export type AuthzInput = { readonly peer: string | undefined; readonly method: string; readonly path: string; readonly headers: Pick<Headers, "get"> };
export type Authorizer = { readonly service: string; evaluate(input: AuthzInput): AuthzVerdict };

type Compiled = { name: string; action: "allow" | "deny"; test: (i: AuthzInput) => boolean };

/**
 * "*" is any verified caller; a deny rule's "*" also covers callers without an identity, so "deny from *" shuts a
 * path for everyone. Otherwise a caller without an identity matches only a rule that names "unauthenticated".
 */
function callerTest(from: readonly string[], action: "allow" | "deny", trustDomain: string): (peer: string | undefined) => boolean {
  const anyVerified = from.includes("*");
  const unauthenticated = from.includes(UNAUTHENTICATED) || (anyVerified && action === "deny");
  if (anyVerified) return (peer) => peer !== undefined || unauthenticated;
  const ids = new Set(from.filter((f) => f.startsWith("spiffe://")));
  const services = new Set(from.filter((f) => !f.startsWith("spiffe://") && f !== UNAUTHENTICATED));
  return (peer) => {
    if (peer === undefined) return unauthenticated;
    if (ids.has(peer)) return true;
    if (services.size === 0) return false;
    const p = parseSpiffeId(peer);
    return p !== undefined && p.trustDomain === trustDomain && services.has(p.service);
  };
}

function compileRule(rule: AuthzRuleConfig, trustDomain: string): Compiled {
  const tests: Array<(i: AuthzInput) => boolean> = [];
  const caller = callerTest(rule.from, rule.action, trustDomain);
  tests.push((i) => caller(i.peer));
  if (rule.paths !== undefined) {
    const paths = rule.paths;
    tests.push((i) => paths.some((p) => ("exact" in p ? i.path === p.exact : i.path.startsWith(p.prefix))));
  }
  if (rule.methods !== undefined) {
    const methods = new Set(rule.methods);
    tests.push((i) => methods.has(i.method));
  }
  for (const h of rule.headers ?? []) {
    const name = h.name.toLowerCase();
    const re = h.regex === undefined ? undefined : anchoredRegex(h.regex);
    const one = (v: string | null): boolean => {
      if (h.present !== undefined && (v !== null) !== h.present) return false;
      if (h.exact !== undefined && v !== h.exact) return false;
      if (h.prefix !== undefined && (v === null || !v.startsWith(h.prefix))) return false;
      if (re !== undefined && (v === null || !re.test(v))) return false;
      return h.present !== undefined || h.exact !== undefined || h.prefix !== undefined || re !== undefined || v !== null;
    };
    tests.push((i) => one(i.headers.get(name)) !== (h.invert === true));
  }
  return { name: rule.name, action: rule.action, test: (i) => tests.every((t) => t(i)) };
}

export function compileAuthorizer(service: string, policy: AuthzPolicyConfig | undefined, meshDefault: "allow" | "deny", trustDomain: string): Authorizer {
  const rules = (policy?.rules ?? []).map((r) => compileRule(r, trustDomain));
  const denies = rules.filter((r) => r.action === "deny");
  const allows = rules.filter((r) => r.action === "allow");
  const fallback = policy?.default ?? meshDefault;
  const defaultReason = policy?.default !== undefined ? `default ${fallback} of ${service}'s policy` : `mesh-wide default ${fallback}`;
  return {
    service,
    evaluate(i) {
      for (const r of denies) if (r.test(i)) return { allowed: false, rule: r.name, reason: `denied by rule "${r.name}" of ${service}'s policy` };
      for (const r of allows) if (r.test(i)) return { allowed: true, rule: r.name, reason: `allowed by rule "${r.name}" of ${service}'s policy` };
      // A default speaks for callers the mesh has verified: one without an identity gets in only by a rule that names it.
      if (i.peer === undefined) return { allowed: false, rule: undefined, reason: `no rule of ${service}'s policy allows "${UNAUTHENTICATED}" callers, and a default never admits a caller without an identity` };
      return { allowed: fallback === "allow", rule: undefined, reason: `no rule matched: ${defaultReason}` };
    },
  };
}

const ALLOWED_BY_DEFAULT = { allowed: true, rule: "default" } as const;

/** The inbound filter: a denied request gets 403 naming the rule and never reaches the app. */
export function authorizationFilter(current: () => Authorizer | undefined): Filter {
  return (next) => async (req, ctx) => {
    const authz = current();
    if (authz === undefined) return next(req, ctx);
    const v = authz.evaluate({ peer: ctx.peer, method: req.method, path: splitUrl(req.url).pathname, headers: req.headers });
    ctx.authz = v.allowed ? (v.rule === undefined ? ALLOWED_BY_DEFAULT : { allowed: true, rule: v.rule }) : { allowed: false, rule: v.rule ?? "default" };
    if (v.allowed) return next(req, ctx);
    const res = errorResponse("forbidden", ctx.requestId, v.reason);
    if (v.rule !== undefined) res.headers.set("x-mesh-authz-rule", v.rule);
    return res;
  };
}
