// Semantic checks of an authorization policy that the schema cannot express: callers that can be parsed, paths in
// canonical form (a rule on a path no request can have would silently never apply), unique rule names, valid regexes.
import { UNAUTHENTICATED, type AuthzPolicyConfig } from "./schema.ts";
import type { Report } from "./validate-policy.ts";
import { parseSpiffeId } from "../pki/spiffe.ts";
import { canonicalizePath } from "../http/canonical-path.ts";

const SERVICE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function validateAuthzPolicy(policy: AuthzPolicyConfig, base: string, services: Record<string, unknown>, report: Report): void {
  const seen = new Map<string, string>();
  policy.rules?.forEach((rule, i) => {
    const path = `${base}.rules[${i}]`;
    const first = seen.get(rule.name);
    if (first !== undefined) report(`${path}.name`, `duplicate rule name "${rule.name}" (already used at ${first})`);
    else seen.set(rule.name, `${path}.name`);
    rule.from.forEach((caller, j) => {
      const at = `${path}.from[${j}]`;
      if (caller === "*") return;
      if (caller === UNAUTHENTICATED) {
        // The keyword always means "no identity": a service of that name would make the rule read two ways.
        if (caller in services) report(at, `ambiguous: "${UNAUTHENTICATED}" means callers without an identity, but a service has that name too (rename the service; to mean the service, use its SPIFFE id)`);
        return;
      }
      if (caller.startsWith("spiffe://")) {
        if (parseSpiffeId(caller) === undefined) report(at, `"${caller}" is not a valid SPIFFE id`);
      } else if (!SERVICE.test(caller)) {
        report(at, `"${caller}" is neither a service name, a SPIFFE id, "*" nor "${UNAUTHENTICATED}"`);
      } else if (!(caller in services)) {
        report(at, `unknown service "${caller}" (declare it under services, name the gateway, or use its SPIFFE id)`);
      }
    });
    rule.paths?.forEach((p, j) => {
      const value = "exact" in p ? p.exact : p.prefix;
      const c = canonicalizePath(value, "");
      if (!c.ok || c.path !== value) report(`${path}.paths[${j}]`, `"${value}" is not a canonical path, so no request can match it${c.ok ? ` (use "${c.path}")` : `: ${c.reason}`}`);
    });
    rule.headers?.forEach((h, j) => {
      if (h.regex === undefined) return;
      try {
        new RegExp(h.regex);
      } catch (e) {
        report(`${path}.headers[${j}].regex`, `invalid regular expression (${e instanceof Error ? e.message.replace(/^Invalid regular expression: /, "") : String(e)})`);
      }
    });
  });
}
