// Splits one mesh config (the file format) into the Consul KV documents the KV provider reads back:
// <prefix>settings, services/<name>, routes/<name>, gateway/<name>. The inverse of kv-documents.ts.
import { stringify } from "yaml";
import type { MeshConfig } from "./schema.ts";

export function splitIntoKvDocuments(config: MeshConfig, prefix: string): Map<string, string> {
  const docs = new Map<string, string>();
  const settings: Record<string, unknown> = {};
  if (config.trustDomain !== undefined) settings.trustDomain = config.trustDomain;
  if (config.namespace !== undefined) settings.namespace = config.namespace;
  if (config.limits !== undefined) settings.limits = config.limits;
  if (config.tracing !== undefined) settings.tracing = config.tracing;
  if (config.defaultAuthorization !== undefined) settings.defaultAuthorization = config.defaultAuthorization;
  if (Object.keys(settings).length > 0) docs.set(`${prefix}settings`, stringify(settings));
  for (const [name, svc] of Object.entries(config.services ?? {})) docs.set(`${prefix}services/${name}`, stringify(svc));
  for (const route of config.routes ?? []) docs.set(`${prefix}routes/${route.name}`, stringify(route));
  for (const [name, policy] of Object.entries(config.authorization ?? {})) docs.set(`${prefix}authorization/${name}`, stringify(policy));
  if (config.gateway !== undefined) {
    const { name, ...rest } = config.gateway;
    docs.set(`${prefix}gateway/${name ?? "gateway"}`, stringify(rest));
  }
  return docs;
}
