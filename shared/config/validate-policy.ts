// Semantic checks for a Policy block wherever it appears (service, route, gateway route): what the schema can't say,
// e.g. "exactly one of", cross-field ranges, and which kinds belong to a service (its clusters, its inbound) only.
import type { PolicyConfig } from "./schema.ts";
import { parseDuration } from "./duration.ts";
import { parseSpiffeId } from "../pki/spiffe.ts";
import { DEFAULTS } from "./defaults.ts";

export type Report = (path: string, message: string) => void;

/** Where a policy sits: a service's (default for its routes, and its clusters' and inbound's own) or a route's. */
export type PolicyScope = {
  readonly kind: "service" | "route";
  /** Names a fault's `from` may use (services and the gateway); undefined where they aren't known (one KV document). */
  readonly callers: Readonly<Record<string, unknown>> | undefined;
};

const SERVICE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const HASHED = new Set(["ring_hash", "maglev"]);

/** Policy kinds that have a slot but are refused with a pointer to what does the job. */
export const REFUSED_POLICY_KINDS = {
  concurrency: "is not a policy kind of its own: use circuitBreaker.maxRequests (fail fast) or circuitBreaker.maxConnections with maxPendingRequests (a bounded queue)",
} as const;

function exactlyOne(obj: object, keys: readonly string[], path: string, report: Report): void {
  const found = keys.filter((k) => (obj as Record<string, unknown>)[k] !== undefined);
  if (found.length !== 1) report(path, `needs exactly one of ${keys.join(", ")} (found ${found.length === 0 ? "none" : found.join(" and ")})`);
}

function checkRegexes(headers: readonly { regex?: string | undefined }[] | undefined, path: string, report: Report): void {
  headers?.forEach((h, j) => {
    if (h.regex === undefined) return;
    try {
      new RegExp(h.regex);
    } catch (e) {
      report(`${path}[${j}].regex`, `invalid regular expression (${e instanceof Error ? e.message.replace(/^Invalid regular expression: /, "") : String(e)})`);
    }
  });
}

function validateFault(f: NonNullable<PolicyConfig["fault"]>, path: string, scope: PolicyScope, report: Report): void {
  if (f.delay === undefined && f.abort === undefined) report(path, "needs a delay, an abort, or both");
  if (f.abort !== undefined) exactlyOne(f.abort, ["status", "reset"], `${path}.abort`, report);
  const when = f.when;
  if (when === undefined) return;
  if (when.instances !== undefined && scope.kind === "route") {
    report(`${path}.when.instances`, "only on a service's policy (its inbound sidecars know their instance); a route's fault is applied by the caller");
  }
  when.headers?.forEach((h, j) => exactlyOne(h, ["exact", "prefix", "regex", "present"], `${path}.when.headers[${j}]`, report));
  checkRegexes(when.headers, `${path}.when.headers`, report);
  when.from?.forEach((caller, j) => {
    const at = `${path}.when.from[${j}]`;
    if (caller.startsWith("spiffe://")) {
      if (parseSpiffeId(caller) === undefined) report(at, `"${caller}" is not a valid SPIFFE id`);
    } else if (!SERVICE.test(caller)) report(at, `"${caller}" is neither a service name nor a SPIFFE id`);
    else if (scope.callers !== undefined && !(caller in scope.callers)) report(at, `unknown caller "${caller}" (a declared service, the gateway's name, or a SPIFFE id)`);
  });
}

function validateOutlier(o: NonNullable<PolicyConfig["outlierDetection"]>, path: string, report: Report): void {
  const base = o.baseEjectionTime ?? DEFAULTS.outlierDetection.baseEjectionTime;
  if (o.maxEjectionTime !== undefined && parseDuration(o.maxEjectionTime) < parseDuration(base)) {
    report(`${path}.maxEjectionTime`, `${o.maxEjectionTime} is shorter than baseEjectionTime ${base}${o.baseEjectionTime === undefined ? " (the default)" : ""}`);
  }
  if (o.interval !== undefined && parseDuration(o.interval) === 0) report(`${path}.interval`, "must be longer than 0");
}

export function validatePolicy(policy: PolicyConfig, path: string, report: Report, scope: PolicyScope = { kind: "service", callers: undefined }): void {
  for (const [kind, why] of Object.entries(REFUSED_POLICY_KINDS)) {
    // `concurrency:` with no value parses to null: the user still asked for it, so it still counts.
    if (Object.hasOwn(policy, kind) && policy[kind as keyof PolicyConfig] !== undefined) report(`${path}.${kind}`, why);
  }
  if (scope.kind === "route") {
    for (const kind of ["circuitBreaker", "outlierDetection"] as const) {
      if (policy[kind] !== undefined) report(`${path}.${kind}`, "belongs to the destination's clusters: set it in services.<name>.policy (every route to the service shares the cluster's breaker and ejections)");
    }
  }
  const retries = policy.retries;
  if (retries?.perTryTimeout !== undefined && policy.timeout !== undefined) {
    if (parseDuration(retries.perTryTimeout) > parseDuration(policy.timeout)) {
      report(`${path}.retries.perTryTimeout`, `${retries.perTryTimeout} exceeds the policy timeout ${policy.timeout}; each try must fit in the overall timeout`);
    }
  }
  if (retries?.budget?.ttl !== undefined && parseDuration(retries.budget.ttl) < 1000) report(`${path}.retries.budget.ttl`, "must be at least 1s");
  if (policy.fault !== undefined) validateFault(policy.fault, `${path}.fault`, scope, report);
  if (policy.outlierDetection !== undefined) validateOutlier(policy.outlierDetection, `${path}.outlierDetection`, report);
  if (policy.rateLimit?.key !== undefined) exactlyOne(policy.rateLimit.key, ["header", "caller"], `${path}.rateLimit.key`, report);
  if (policy.hashOn !== undefined) {
    exactlyOne(policy.hashOn, ["header", "cookie", "caller"], `${path}.hashOn`, report);
    if (policy.loadBalancer !== undefined && !HASHED.has(policy.loadBalancer)) report(`${path}.hashOn`, `only used by loadBalancer ring_hash or maglev (this policy says ${policy.loadBalancer})`);
  }
  if (policy.loadBalancer !== undefined && HASHED.has(policy.loadBalancer) && policy.hashOn === undefined && scope.kind === "service") {
    report(`${path}.loadBalancer`, `${policy.loadBalancer} needs hashOn (a header, a cookie or the caller) to hash requests by`);
  }
}
