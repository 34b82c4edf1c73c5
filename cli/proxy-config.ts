// `meshctl proxy-config <member-id>`: the config one member has applied, as it published it under mesh-status/<id>,
// plus its Consul health and, for a KV source, which documents under that prefix it rejects (validated here the same way).
import { assembleKvDocuments } from "../shared/config/kv-documents.ts";
import { formatIssue, type ConfigIssue } from "../shared/config/issues.ts";
import type { KvItem } from "./consul-kv.ts";
import type { PublishedStatus, RegisteredMember, Report } from "./member-reports.ts";

export class NothingPublished extends Error {}

export type ProxyConfig = {
  id: string;
  version: number | undefined;
  source: string | undefined;
  appliedAt: string | undefined;
  /** How many problems the member itself counts (config + documents), as published. */
  rejected: number | undefined;
  health: string | undefined;
  held: string | undefined;
  /** Documents under the member's KV prefix that fail validation now: what it holds its last good version of. */
  rejectedDocuments: ConfigIssue[];
  /** Routes and clusters: only if the member publishes them (today's status report does not). */
  routes: unknown;
  clusters: unknown;
};

/** The KV prefix of a "consul-kv <prefix> @<index>" source, or undefined for a file source. */
export function kvPrefixOf(source: string | undefined): string | undefined {
  return /^consul-kv (\S+)/.exec(source ?? "")?.[1];
}

export async function proxyConfigOf(id: string, reports: readonly Report[], members: readonly RegisteredMember[], kvItems: readonly KvItem[] | undefined): Promise<ProxyConfig> {
  const report = reports.find((r) => r.id === id);
  if (report === undefined) {
    const known = [...new Set([...reports.map((r) => r.id), ...members.map((m) => m.id)])].sort();
    throw new NothingPublished(`${id}: has published nothing under mesh-status/${id}; known members: ${known.join(", ") || "(none)"}`);
  }
  const s: PublishedStatus = report.status ?? {};
  const member = members.find((m) => m.id === id);
  const prefix = kvPrefixOf(s.source);
  const rejectedDocuments = prefix === undefined || kvItems === undefined ? [] : (await assembleKvDocuments(kvItems, prefix, new Map())).issues;
  return {
    id,
    version: typeof s.config === "number" ? s.config : undefined,
    source: s.source,
    appliedAt: s.appliedAt,
    rejected: typeof s.rejected === "number" ? s.rejected : undefined,
    health: member?.health,
    held: /held=(\S+)/.exec(member?.checkOutput ?? "")?.[1],
    rejectedDocuments,
    routes: s.routes,
    clusters: s.clusters,
  };
}

export function formatProxyConfig(p: ProxyConfig): string {
  const lines = [
    `member:    ${p.id}${p.health === undefined ? " (not registered in Consul)" : ` (${p.health})`}`,
    `source:    ${p.source ?? "?"}`,
    `version:   ${p.version ?? "?"}`,
    `applied:   ${p.appliedAt ?? "?"}`,
    `rejected:  ${p.rejected ?? "?"} (as the member counts them)${p.held === undefined ? "" : `; holding its config: ${p.held}`}`,
  ];
  if (p.rejectedDocuments.length > 0) {
    lines.push(`documents under ${kvPrefixOf(p.source)} that fail validation now (members reject them and keep their last good version):`);
    for (const i of p.rejectedDocuments) lines.push(`  ${formatIssue(i)}`);
  }
  const summary = (name: string, v: unknown) => (v === undefined ? `${name}: not published by the member` : `${name}: ${Array.isArray(v) ? v.length : Object.keys(v as object).length}`);
  lines.push(summary("routes", p.routes), summary("clusters", p.clusters));
  return lines.join("\n");
}
