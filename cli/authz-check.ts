// `meshctl authz check --from web --to echo GET /path [-H 'k: v'] [-f FILE]`: what echo's inbound would decide for
// that request, and the rule that decided it, against the live config in Consul KV (or a file), evaluated by the
// same compiled policy the sidecars run.
import { parseMeshConfig } from "../shared/config/parse.ts";
import { assembleKvDocuments } from "../shared/config/kv-documents.ts";
import { compileAuthorizer, type AuthzVerdict } from "../shared/filters/authorization.ts";
import { canonicalizePath } from "../shared/http/canonical-path.ts";
import { splitTarget } from "../shared/http/url.ts";
import { formatSpiffeId, parseSpiffeId } from "../shared/pki/spiffe.ts";
import { DEFAULTS } from "../shared/config/defaults.ts";
import { UNAUTHENTICATED, type MeshConfig, type MtlsModeConfig } from "../shared/config/schema.ts";
import { formatIssue } from "../shared/config/issues.ts";

/** `from` undefined or "unauthenticated": a caller without an identity (plaintext, through a permissive inbound). */
export type AuthzCheckInput = { from: string | undefined; to: string; method: string; target: string; headers: string[] };
export type AuthzCheckResult = { verdict: AuthzVerdict; caller: string | undefined; service: string; path: string; mtls: MtlsModeConfig };

/** Reads the config as a member would: the file, or the documents under the KV prefix (each validated on its own). */
export async function loadConfig(source: { file: string } | { kvItems: Array<{ key: string; value: string }>; prefix: string }): Promise<MeshConfig> {
  if ("file" in source) {
    const parsed = await parseMeshConfig(await Bun.file(source.file).text(), source.file);
    if (!parsed.ok) throw new Error(parsed.issues.map(formatIssue).join("\n"));
    return parsed.config;
  }
  const { config } = await assembleKvDocuments(source.kvItems, source.prefix, new Map());
  const parsed = await parseMeshConfig(JSON.stringify(config), `consul:${source.prefix}`);
  if (!parsed.ok) throw new Error(parsed.issues.map(formatIssue).join("\n"));
  return parsed.config;
}

export function authzCheck(config: MeshConfig, input: AuthzCheckInput): AuthzCheckResult {
  const trustDomain = config.trustDomain ?? DEFAULTS.trustDomain;
  const namespace = config.namespace ?? DEFAULTS.namespace;
  if (!(input.to in (config.services ?? {}))) throw new Error(`--to: unknown service "${input.to}"`);
  const from = input.from === UNAUTHENTICATED ? undefined : input.from;
  const caller = from === undefined ? undefined : from.startsWith("spiffe://") ? from : formatSpiffeId({ trustDomain, namespace, service: from });
  if (caller !== undefined && parseSpiffeId(caller) === undefined) throw new Error(`--from: "${input.from}" is not a service name or SPIFFE id`);
  const { pathname, search } = splitTarget(input.target);
  const canonical = canonicalizePath(pathname, search);
  if (!canonical.ok) throw new Error(`${input.target}: the inbound refuses this path before authorization (400: ${canonical.reason})`);
  const headers = new Headers();
  for (const h of input.headers) {
    const colon = h.indexOf(":");
    if (colon <= 0) throw new Error(`-H "${h}": expected "name: value"`);
    headers.append(h.slice(0, colon).trim(), h.slice(colon + 1).trim());
  }
  const authorizer = compileAuthorizer(input.to, config.authorization?.[input.to], config.defaultAuthorization ?? "allow", trustDomain);
  const policy = authorizer.evaluate({ peer: caller, method: input.method.toUpperCase(), path: canonical.path, headers });
  const mtls = config.services?.[input.to]?.mtls ?? "strict";
  // A plaintext caller gets as far as authorization only on a permissive inbound; the policy's word is still shown.
  const verdict: AuthzVerdict =
    caller === undefined && mtls === "strict"
      ? { allowed: false, rule: undefined, reason: `refused before authorization: ${input.to} is mtls: strict, so its inbound takes no plaintext connection (with mtls: permissive, ${policy.reason})` }
      : policy;
  return { verdict, caller, service: input.to, path: canonical.path, mtls };
}

function transportNote(r: AuthzCheckResult): string {
  return r.mtls === "disable" ? `\n  note: ${r.service} is mtls: disable (outside the mesh): no inbound sidecar enforces this policy` : "";
}

export function formatCheck(r: AuthzCheckResult, method: string): string {
  const who = r.caller ?? "(no identity: a plaintext caller)";
  return `${r.verdict.allowed ? "ALLOW" : "DENY"}  ${who} → ${r.service} ${method.toUpperCase()} ${r.path}\n  ${r.verdict.reason}${transportNote(r)}`;
}
