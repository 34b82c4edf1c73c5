// What a TCP service (protocol: tcp) refuses: everything that needs an HTTP request, since its connections are carried
// at L4 with no parsing. Refused with path and reason rather than silently ignored, so nobody relies on a no-op.
import type { AuthzPolicyConfig, PolicyConfig, ServiceConfig } from "./schema.ts";
import type { Report } from "./validate-policy.ts";

const NO_REQUESTS = "a TCP service's connections are carried at L4, with no requests to apply it to";

/** Policy kinds with no meaning (or no implementation yet) for whole connections, and why. */
const TCP_REFUSED_POLICY: Partial<Record<keyof PolicyConfig, string>> = {
  timeout: `${NO_REQUESTS} (a connection lasts as long as the app keeps it)`,
  retries: `${NO_REQUESTS}; a failed connect is tried once more on another endpoint by itself`,
  fault: NO_REQUESTS,
  rateLimit: NO_REQUESTS,
  hashOn: `${NO_REQUESTS} to hash; use loadBalancer round_robin or least_request`,
  connectTimeout: "not applied to TCP services yet: their connects use the default 2s",
  circuitBreaker: "not applied to TCP services yet: connections are not counted against a breaker",
};

export function isTcp(svc: ServiceConfig | undefined): boolean {
  return svc?.protocol === "tcp";
}

export function validateTcpService(svc: ServiceConfig, base: string, report: Report): void {
  if (!isTcp(svc)) return;
  if (svc.mtls === "permissive") {
    report(`${base}.mtls`, "a TCP service cannot be permissive: a permissive inbound tells TLS from plaintext by sniffing HTTP, and a plaintext TCP caller would have no identity (use strict)");
  }
  if (svc.mtls === "disable") report(`${base}.mtls`, "not supported for TCP services yet: they are carried over mTLS only (use strict)");
  if (svc.subsets !== undefined) report(`${base}.subsets`, "subsets are picked by routes, and routes carry HTTP requests: a TCP service is reached as a whole");
  const p = svc.policy;
  if (p === undefined) return;
  for (const [kind, why] of Object.entries(TCP_REFUSED_POLICY)) {
    if (p[kind as keyof PolicyConfig] !== undefined) report(`${base}.policy.${kind}`, why);
  }
  if (p.loadBalancer === "ring_hash" || p.loadBalancer === "maglev") report(`${base}.policy.loadBalancer`, `${p.loadBalancer} hashes a request key, and ${NO_REQUESTS}; use round_robin or least_request`);
}

/** A TCP service's rules can only name callers: a connection has no path, method or headers to match. */
export function validateTcpAuthz(policy: AuthzPolicyConfig, base: string, report: Report): void {
  policy.rules?.forEach((rule, i) => {
    for (const field of ["paths", "methods", "headers"] as const) {
      if (rule[field] !== undefined) report(`${base}.rules[${i}].${field}`, `the service is protocol tcp: a connection has no ${field}, so its rules can only name callers (from)`);
    }
  });
}

export const TCP_DESTINATION = (service: string): string =>
  `"${service}" is a TCP service (protocol: tcp): routes carry HTTP requests; callers reach it through their sidecar's --tcp-upstream ${service}=PORT listener`;
