// Assembles the mesh config from Consul KV documents (one resource per key), each validated on its own:
// a bad document is rejected with its key, path and reason, and its last good version keeps serving.
import * as v from "valibot";
import { readYaml, type YamlRead } from "./yaml-text.ts";
import { AuthzPolicy, Gateway, MeshConfig, Route, Service } from "./schema.ts";
import { mapSchemaIssues } from "./schema-issues.ts";
import { ROOT_PATH, type ConfigIssue } from "./issues.ts";
import { validateRoute } from "./validate-route.ts";
import { validatePolicy } from "./validate-policy.ts";
import type { AuthzPolicyConfig, RouteConfig, ServiceConfig } from "./schema.ts";
import { validateAuthzPolicy } from "./validate-authz.ts";
import { validateTcpService } from "./validate-tcp.ts";

/** Services first: route documents are checked against them. */
const ORDER: Record<Kind, number> = { settings: 0, services: 1, routes: 2, gateway: 3, authorization: 4 };

/** The semantic checks that belong to one document (regexes, references, unimplemented policy kinds). */
function semanticIssues(kind: Kind, doc: unknown, services: Record<string, ServiceConfig>, gateways: Record<string, unknown>): Array<{ path: string; message: string }> {
  const found: Array<{ path: string; message: string }> = [];
  const report = (path: string, message: string) => found.push({ path: path.replace(/^\./, "") || ROOT_PATH, message });
  const callers = { ...services, ...gateways };
  if (kind === "routes") validateRoute(doc as RouteConfig, "", services, callers, report);
  if (kind === "services" && (doc as ServiceConfig).policy !== undefined) validatePolicy((doc as ServiceConfig).policy!, "policy", report, { kind: "service", callers });
  if (kind === "services") validateTcpService(doc as ServiceConfig, "", report);
  if (kind === "gateway") (doc as { routes: RouteConfig[] }).routes.forEach((r, i) => validateRoute(r, `routes[${i}]`, services, callers, report));
  if (kind === "authorization") validateAuthzPolicy(doc as AuthzPolicyConfig, "", { ...services, ...gateways }, report);
  return found;
}

/** `<prefix>settings`: the mesh-wide fields (trustDomain, namespace, limits, tracing, defaultAuthorization). */
// The same field schemas as the whole-file model, so an assembled state needs no second schema pass (provider.ts).
const Settings = v.strictObject({
  trustDomain: MeshConfig.entries.trustDomain,
  namespace: MeshConfig.entries.namespace,
  limits: MeshConfig.entries.limits,
  tracing: MeshConfig.entries.tracing,
  defaultAuthorization: MeshConfig.entries.defaultAuthorization,
});

type Kind = "settings" | "services" | "routes" | "gateway" | "authorization";
const SCHEMAS = { settings: Settings, services: Service, routes: Route, gateway: Gateway, authorization: AuthzPolicy } as const;

/**
 * `<prefix>confirmed`: written by `meshctl teardown` (an empty mesh on purpose) and `meshctl apply --confirm` (fewer
 * documents on purpose). Members take the prefix as it is while it exists; a plain `meshctl apply` removes it.
 */
export const CONFIRM_DOCUMENT = "confirmed";

/**
 * Our own limit per document: Consul's default value limit, kept even where an operator raised Consul's
 * (`limits.kv_max_value_size`), so one huge document cannot make every member parse megabytes on each change.
 */
export const DEFAULT_MAX_DOCUMENT_BYTES = 524_288;

export function documentSizeMessage(bytes: number, limit: number): string {
  return `document is ${bytes} bytes, over the ${limit}-byte limit per document (default 524288 = 512 KB, Consul's default value limit; MESH_KV_MAX_DOCUMENT_BYTES)`;
}

/** A positive whole number of bytes, or the default when unset; anything else is refused, not guessed. */
export function parseMaxDocumentBytes(raw: string | undefined, name = "MESH_KV_MAX_DOCUMENT_BYTES"): number {
  if (raw === undefined || raw === "") return DEFAULT_MAX_DOCUMENT_BYTES;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a positive number of bytes, got "${raw}"`);
  return n;
}

/** `bytes` is the stored size (as Consul counts it); without it, the UTF-8 length of `value`. */
export type KvEntry = { key: string; value: string; bytes?: number };
export type KvAssembly = { config: Record<string, unknown>; issues: ConfigIssue[] };

function kindOf(rel: string): { kind: Kind; name: string | undefined } | undefined {
  if (rel === "settings") return { kind: "settings", name: undefined };
  const m = /^(services|routes|gateway|authorization)\/([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)$/.exec(rel);
  return m === null ? undefined : { kind: m[1] as Kind, name: m[2] };
}

/** A key that holds part of the mesh config (not a folder marker, the confirm marker or an unknown key). */
export function isConfigDocument(key: string, prefix: string): boolean {
  return key.startsWith(prefix) && kindOf(key.slice(prefix.length)) !== undefined;
}

/**
 * Keeps, per key, the last version that validated; `lastGood` is updated in place. Routes are ordered by key,
 * so "ties go to the first declared" means the first key in lexical order.
 */
export async function assembleKvDocuments(entries: readonly KvEntry[], prefix: string, lastGood: Map<string, unknown>, opts: { maxDocumentBytes?: number } = {}): Promise<KvAssembly> {
  const limit = opts.maxDocumentBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
  const sizeOf = (e: KvEntry): number => e.bytes ?? new TextEncoder().encode(e.value).length;
  // Every document's YAML is read first, so the assembly below (which updates `lastGood`) runs in one piece.
  const reads = new Map<string, YamlRead>();
  for (const e of entries) if (isConfigDocument(e.key, prefix) && sizeOf(e) <= limit) reads.set(e.key, await readYaml(e.value));
  const issues: ConfigIssue[] = [];
  const present = new Set<string>();
  const rank = (key: string) => ORDER[kindOf(key.slice(prefix.length))?.kind ?? "gateway"];
  const sorted = [...entries].sort((a, b) => rank(a.key) - rank(b.key) || a.key.localeCompare(b.key));
  const services: Record<string, ServiceConfig> = {};
  for (const [key, doc] of lastGood) if (key.startsWith(`${prefix}services/`)) services[key.slice(prefix.length + 9)] = doc as ServiceConfig;
  const gateways: Record<string, unknown> = {};
  for (const key of lastGood.keys()) if (key.startsWith(`${prefix}gateway/`)) gateways[key.slice(prefix.length + 8)] = {};
  for (const entry of sorted) {
    const { key } = entry;
    const rel = key.slice(prefix.length);
    if (rel === "" || rel.endsWith("/") || rel === CONFIRM_DOCUMENT) continue; // folder markers; the confirm marker is no config
    present.add(key);
    const kind = kindOf(rel);
    if (kind === undefined) {
      issues.push({ source: key, path: ROOT_PATH, message: `unknown document: expected ${prefix}settings, ${prefix}services/<name>, ${prefix}routes/<name>, ${prefix}gateway/<name> or ${prefix}authorization/<service>` });
      continue;
    }
    const bytes = sizeOf(entry);
    if (bytes > limit) {
      issues.push({ source: key, path: ROOT_PATH, message: documentSizeMessage(bytes, limit) });
      continue; // checked before parsing: a huge document costs nothing but this line
    }
    const read = reads.get(key)!;
    if (!read.ok) {
      issues.push(...read.messages.map((message) => ({ source: key, path: ROOT_PATH, message })));
      continue;
    }
    let doc = read.data;
    // A route's name defaults to its key, so `mesh/routes/echo-split` needs no `name:` inside.
    if (kind.kind === "routes" && typeof doc === "object" && doc !== null && !("name" in doc)) doc = { name: kind.name, ...doc };
    const result = v.safeParse(SCHEMAS[kind.kind], doc ?? {});
    if (!result.success) {
      issues.push(...mapSchemaIssues(result.issues, key));
      continue;
    }
    const semantic = semanticIssues(kind.kind, result.output, services, gateways);
    if (semantic.length > 0) {
      issues.push(...semantic.map((i) => ({ source: key, ...i })));
      continue;
    }
    if (kind.kind === "services") services[kind.name!] = result.output as ServiceConfig;
    if (kind.kind === "gateway") gateways[kind.name!] = {};
    lastGood.set(key, result.output);
  }
  for (const key of [...lastGood.keys()]) if (!present.has(key)) lastGood.delete(key); // deleted documents go away

  const config: Record<string, unknown> = {};
  const assembled: Record<string, unknown> = {};
  const routes: unknown[] = [];
  const authorization: Record<string, unknown> = {};
  for (const [key, doc] of [...lastGood.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const kind = kindOf(key.slice(prefix.length))!;
    if (kind.kind === "settings") Object.assign(config, doc);
    else if (kind.kind === "services") assembled[kind.name!] = doc;
    else if (kind.kind === "routes") routes.push(doc);
    else if (kind.kind === "authorization") authorization[kind.name!] = doc;
    else if (config.gateway === undefined) config.gateway = { name: kind.name, ...(doc as object) };
    else issues.push({ source: key, path: ROOT_PATH, message: "only one gateway document is supported; this one is ignored" });
  }
  config.services = assembled;
  config.routes = routes;
  if (Object.keys(authorization).length > 0) config.authorization = authorization;
  return { config, issues };
}
