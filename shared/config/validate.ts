// Semantic rules the schema cannot express: cross-references, uniqueness, regex validity, unimplemented kinds.
// Returns every problem found; `source` is left empty for the caller (who knows the file or key) to fill.
import type { MeshConfig, RouteConfig } from "./schema.ts";
import type { ConfigIssue } from "./issues.ts";
import { validatePolicy, type Report } from "./validate-policy.ts";
import { validateRoute } from "./validate-route.ts";
import { validateAuthzPolicy } from "./validate-authz.ts";
import { isTcp, validateTcpAuthz, validateTcpService } from "./validate-tcp.ts";

/** Reports the second and later uses of a key, pointing back at the first. */
function uniqueness<K>(report: Report) {
  const seen = new Map<K, string>();
  return (key: K, path: string, message: (firstPath: string) => string): void => {
    const first = seen.get(key);
    if (first === undefined) seen.set(key, path);
    else report(path, message(first));
  };
}

function validateRoutes(routes: readonly RouteConfig[], base: string, config: MeshConfig, callers: Record<string, unknown>, report: Report): void {
  const names = uniqueness<string>(report);
  routes.forEach((route, i) => {
    const path = `${base}[${i}]`;
    names(route.name, `${path}.name`, (first) => `duplicate route name "${route.name}" (already used at ${first})`);
    validateRoute(route, path, config.services ?? {}, callers, report);
  });
}

export function validateMeshConfig(config: MeshConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const report: Report = (path, message) => issues.push({ source: "", path, message });

  // Callers may be services or the gateway (a mesh member with its own identity).
  const callers = { ...(config.services ?? {}), ...(config.gateway === undefined ? {} : { [config.gateway.name ?? "gateway"]: {} }) };
  for (const [name, svc] of Object.entries(config.services ?? {})) {
    const base = `services.${name}`;
    const ids = uniqueness<string>(report);
    svc.instances?.forEach((inst, i) => {
      ids(inst.id, `${base}.instances[${i}].id`, (first) => `duplicate instance id "${inst.id}" (already used at ${first})`);
    });
    if (svc.policy !== undefined) validatePolicy(svc.policy, `${base}.policy`, report, { kind: "service", callers });
    validateTcpService(svc, base, report);
  }

  if (config.routes !== undefined) validateRoutes(config.routes, "routes", config, callers, report);

  for (const [name, policy] of Object.entries(config.authorization ?? {})) {
    if (!(name in (config.services ?? {}))) report(`authorization.${name}`, `policy for unknown service "${name}" (declare it under services)`);
    validateAuthzPolicy(policy, `authorization.${name}`, callers, report);
    if (isTcp(config.services?.[name])) validateTcpAuthz(policy, `authorization.${name}`, report);
  }

  const gw = config.gateway;
  if (gw !== undefined) {
    const names = uniqueness<string>(report);
    const ports = uniqueness<number>(report);
    gw.listeners.forEach((l, i) => {
      const path = `gateway.listeners[${i}]`;
      names(l.name, `${path}.name`, (first) => `duplicate listener name "${l.name}" (already used at ${first})`);
      // Port 0 asks the OS for a free port, so several listeners may use it.
      if (l.port !== 0) ports(l.port, `${path}.port`, (first) => `port ${l.port} is already used by ${first}`);
    });
    validateRoutes(gw.routes, "gateway.routes", config, callers, report);
  }
  return issues;
}
