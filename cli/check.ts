// `meshctl check`: a doctor for the mesh. Each check is one verdict line `PASS|WARN|FAIL|INFO <check>: <detail>`;
// the verdicts are pure functions of what was read (unit-tested), the runner only gathers the inputs.
import { parseMeshConfig } from "../shared/config/parse.ts";
import { assembleKvDocuments } from "../shared/config/kv-documents.ts";
import { formatIssue } from "../shared/config/issues.ts";
import { findPinnedRoot } from "../shared/pki/bundle.ts";
import { bundleFingerprints, normalizeFingerprint } from "../shared/pki/fingerprint.ts";
import { EXIT } from "../member/cli.ts";
import { ConsulUnreachable, type KvItem } from "./consul-kv.ts";
import type { ConsulReader, RegisteredMember, Report } from "./member-reports.ts";

export type Level = "PASS" | "WARN" | "FAIL" | "INFO";
export type Verdict = { level: Level; check: string; detail: string };

export const SKEW_WARN_MS = 1_000;
export const SKEW_FAIL_MS = 30_000;

export function formatVerdict(v: Verdict): string {
  return `${v.level} ${v.check}: ${v.detail}`;
}

/** 0 when everything passed (warnings and info allowed), 1 on any FAIL, 3 when Consul itself did not answer. */
export function exitCodeFor(verdicts: readonly Verdict[], consulUnreachable: boolean): number {
  if (consulUnreachable) return EXIT.unreachable;
  return verdicts.some((v) => v.level === "FAIL") ? EXIT.problem : EXIT.ok;
}

/**
 * Our clock minus the agent's, in ms, from its HTTP Date header. The header has whole seconds (the agent's time is
 * somewhere in [D, D+1s)) and the call took a while, so the skew is the least distance consistent with both: a
 * healthy host never reads as 1 s off just from rounding.
 */
export function clockSkewMs(dateHeader: string, sentAt: number, receivedAt: number): number | undefined {
  const d = Date.parse(dateHeader);
  if (Number.isNaN(d)) return undefined;
  if (receivedAt < d) return receivedAt - d; // we are behind even at our latest possible instant
  if (sentAt > d + 1000) return sentAt - (d + 1000); // ahead even at our earliest
  return 0;
}

export function skewVerdict(skewMs: number | undefined): Verdict {
  const check = "consul-clock";
  if (skewMs === undefined) return { level: "WARN", check, detail: "the agent sent no readable Date header; clock skew unknown" };
  const abs = Math.abs(skewMs);
  const text = `our clock is ${(abs / 1000).toFixed(1)} s ${skewMs >= 0 ? "ahead of" : "behind"} the agent's`;
  if (abs > SKEW_FAIL_MS) return { level: "FAIL", check, detail: `${text} (> ${SKEW_FAIL_MS / 1000} s): certificates are time-bound, fix NTP` };
  if (abs > SKEW_WARN_MS) return { level: "WARN", check, detail: `${text} (> ${SKEW_WARN_MS / 1000} s)` };
  return { level: "PASS", check, detail: abs === 0 ? "in step with the agent (within the Date header's 1 s)" : text };
}

export function leaderVerdict(consul: string, leader: string): Verdict {
  return leader.trim() === "" || leader === '""'
    ? { level: "FAIL", check: "consul", detail: `${consul} answers but has no leader (/v1/status/leader is empty)` }
    : { level: "PASS", check: "consul", detail: `${consul} reachable, leader ${leader}` };
}

/** The config as a member assembles it from the prefix: each document on its own, then the whole. */
export async function configVerdicts(items: readonly KvItem[], prefix: string): Promise<Verdict[]> {
  const check = "config";
  if (items.length === 0) return [{ level: "WARN", check, detail: `no documents under ${prefix}: members reading it hold their last config (or start with none)` }];
  const { config, issues } = await assembleKvDocuments(items, prefix, new Map());
  const out: Verdict[] = issues.map((i) => ({ level: "FAIL", check, detail: `${formatIssue(i)} (members keep that document's last good version)` }));
  const parsed = await parseMeshConfig(JSON.stringify(config), `consul:${prefix}`);
  if (!parsed.ok) for (const i of parsed.issues) out.push({ level: "FAIL", check, detail: `${formatIssue(i)} (members keep their last good config)` });
  if (out.length === 0) out.push({ level: "PASS", check, detail: `${items.length} documents under ${prefix} parse and validate` });
  return out;
}

/** "consul-kv mesh/ @42" → "consul-kv mesh/": members on the same source must reach the same version. */
export function sourceKey(source: string): string {
  return source.replace(/ @\S+.*$/, "");
}

export type MemberInputs = { members: readonly RegisteredMember[]; reports: readonly Report[]; now: number; staleMs: number };

/**
 * One line per registered member: its health, whether it published, and whether it is behind the newest version a
 * peer on the same source applied. Behind is WARN while the newer version is younger than `staleMs` (it is still
 * propagating) and FAIL after. A report with no registered member is a leftover: WARN, stale.
 */
/** Three missed 5-minute reports (member/status-report.ts REPORT_INTERVAL_MS). */
export const SILENT_AFTER_MS = 15 * 60_000;

export function memberVerdicts(i: MemberInputs): Verdict[] {
  const byId = new Map(i.reports.map((r) => [r.id, r]));
  const newest = new Map<string, { version: number; appliedAt: number }>();
  for (const r of i.reports) {
    const s = r.status;
    if (s?.source === undefined || typeof s.config !== "number") continue;
    const k = sourceKey(s.source);
    const at = Date.parse(s.appliedAt ?? "");
    const cur = newest.get(k);
    if (cur === undefined || s.config > cur.version) newest.set(k, { version: s.config, appliedAt: Number.isNaN(at) ? i.now : at });
  }
  const out: Verdict[] = [];
  if (i.members.length === 0) out.push({ level: "WARN", check: "members", detail: "no sidecar or gateway is registered in Consul (Meta.kind sidecar/gateway)" });
  for (const m of i.members) {
    const check = `member ${m.id}`;
    const problems: Verdict[] = [];
    const health = m.health === "passing" ? undefined : `${m.kind} ${m.service} is ${m.health} in Consul${m.checkOutput === "" ? "" : ` (${m.checkOutput})`}`;
    if (health !== undefined) problems.push({ level: m.health === "critical" ? "FAIL" : "WARN", check, detail: health });
    const s = byId.get(m.id)?.status;
    if (s === undefined || typeof s.config !== "number" || s.source === undefined) {
      problems.push({ level: "WARN", check, detail: byId.has(m.id) ? `mesh-status/${m.id} is not a readable status report` : `published no status under mesh-status/${m.id}` });
    } else {
      const top = newest.get(sourceKey(s.source))!;
      if (s.config < top.version) {
        const age = i.now - top.appliedAt;
        const stuck = age >= i.staleMs;
        problems.push({ level: stuck ? "FAIL" : "WARN", check, detail: `applied config ${s.config} from ${s.source}; a peer on the same source applied ${top.version} ${Math.round(age / 1000)} s ago${stuck ? " (stale: not propagating)" : " (propagating?)"}` });
      }
      // Members republish every 5 minutes (member/status-report.ts): three missed reports is a member that stopped, or
      // cannot reach Consul's KV, even when its registration still passes. Older members publish no reportedAt.
      const reported = Date.parse(String(s.reportedAt ?? ""));
      if (!Number.isNaN(reported) && i.now - reported > SILENT_AFTER_MS) {
        problems.push({ level: "WARN", check, detail: `last status report ${Math.round((i.now - reported) / 60_000)} min ago (members report every 5 min): stopped, or cut off from Consul KV?` });
      }
      if ((s.rejected ?? 0) > 0) problems.push({ level: "WARN", check, detail: `rejected ${s.rejected} config problem(s), serving its last good config (meshctl proxy-config ${m.id})` });
      const held = /held=(\S+)/.exec(m.checkOutput)?.[1];
      if (held !== undefined) problems.push({ level: "WARN", check, detail: `holds its config: ${held}` });
      if (problems.length === 0) out.push({ level: "PASS", check, detail: `${m.kind} ${m.service} passing, config ${s.config} (${s.source})` });
    }
    out.push(...problems);
  }
  const registered = new Set(i.members.map((m) => m.id));
  for (const r of i.reports) {
    if (!registered.has(r.id)) out.push({ level: "WARN", check: `member ${r.id}`, detail: `stale: mesh-status/${r.id} is published but no such member is registered (gone, or its agent is elsewhere)` });
  }
  return out;
}

/** Expiry from what each member publishes (member/status-report.ts: certNotBefore/certNotAfter); older members publish none. */
export function certificateVerdicts(reports: readonly Report[], now: number): Verdict[] {
  const out: Verdict[] = [];
  for (const r of reports) {
    const notAfter = Date.parse(String(r.status?.certNotAfter ?? ""));
    const notBefore = Date.parse(String(r.status?.certNotBefore ?? ""));
    if (Number.isNaN(notAfter)) continue;
    out.push(certificateVerdict(r.id, Number.isNaN(notBefore) ? undefined : notBefore, notAfter, now));
  }
  if (out.length === 0) out.push({ level: "INFO", check: "certificates", detail: "certificate dates not published by any member (mesh-status/<id> without certNotAfter: older members); not checked" });
  return out;
}

export function certificateVerdict(id: string, notBefore: number | undefined, notAfter: number, now: number): Verdict {
  const check = `certificate ${id}`;
  const left = notAfter - now;
  if (left <= 0) return { level: "FAIL", check, detail: `expired ${new Date(notAfter).toISOString()}` };
  const lifetime = notBefore === undefined ? undefined : notAfter - notBefore;
  const hours = (left / 3_600_000).toFixed(1);
  // Renewal is due at about half life: under a quarter left (or 2 h) means renewal has been failing for a while.
  if (left < 2 * 3_600_000 || (lifetime !== undefined && left < lifetime / 4)) return { level: "WARN", check, detail: `expires in ${hours} h (${new Date(notAfter).toISOString()}): renewal overdue?` };
  return { level: "PASS", check, detail: `expires in ${hours} h` };
}

export type CaInputs = { url: string; fingerprint: string } | undefined;

/** The pinned root must be a root in the bundle the CA serves (the same rule members apply before joining). */
export async function caBundleVerdict(url: string, fingerprint: string, bundlePem: string): Promise<Verdict> {
  const check = "ca";
  const pin = normalizeFingerprint(fingerprint);
  if (pin === undefined) return { level: "FAIL", check, detail: `--ca-fingerprint "${fingerprint}" is not a sha256 fingerprint` };
  if ((await findPinnedRoot(bundlePem, pin)) !== undefined) return { level: "PASS", check, detail: `${url} reachable; its trust bundle holds the pinned root ${pin}` };
  const served = (await bundleFingerprints(bundlePem)).join(", ") || "no certificates";
  return { level: "FAIL", check, detail: `${url} serves ${served}, not the pinned root ${pin}: a different CA, or something in between` };
}

/** The trust bundle, fetched unverified: it is public, and only the pinned root in it is believed (members do the same). */
async function fetchTrustBundle(url: string): Promise<string> {
  const res = await fetch(`${url.replace(/\/+$/, "")}/v1/trust-bundle`, { signal: AbortSignal.timeout(5000), keepalive: false, tls: { rejectUnauthorized: false } } as RequestInit);
  if (!res.ok) throw new Error(`GET /v1/trust-bundle: ${res.status}`);
  const body = (await res.json()) as { trustBundlePem?: unknown };
  if (typeof body.trustBundlePem !== "string") throw new Error("GET /v1/trust-bundle: no trustBundlePem in the answer");
  return body.trustBundlePem;
}

export type CheckOptions = { consul: string; reader: ConsulReader; listKv: (prefix: string) => Promise<KvItem[]>; prefix: string; ca: CaInputs; staleMs: number };

/** Runs every check; Consul not answering stops the Consul checks (exit 3) but the CA is still looked at. */
export async function runChecks(o: CheckOptions): Promise<{ verdicts: Verdict[]; exitCode: number }> {
  const verdicts: Verdict[] = [];
  let unreachable = false;
  try {
    const l = await o.reader.leader();
    verdicts.push(leaderVerdict(o.consul, l.leader));
    verdicts.push(skewVerdict(l.date === null ? undefined : clockSkewMs(l.date, l.sentAt, l.receivedAt)));
    verdicts.push(...(await configVerdicts(await o.listKv(o.prefix), o.prefix)));
    const [members, reports] = await Promise.all([o.reader.members(), o.reader.reports()]);
    const now = Date.now();
    verdicts.push(...memberVerdicts({ members, reports, now, staleMs: o.staleMs }));
    verdicts.push(...certificateVerdicts(reports, now));
  } catch (err) {
    if (!(err instanceof ConsulUnreachable)) throw err;
    unreachable = true;
    verdicts.push({ level: "FAIL", check: "consul", detail: err.message });
  }
  if (o.ca === undefined) verdicts.push({ level: "INFO", check: "ca", detail: "skipped: no --ca / --ca-fingerprint (or MESH_CA / MESH_CA_FINGERPRINT)" });
  else {
    try {
      verdicts.push(await caBundleVerdict(o.ca.url, o.ca.fingerprint, await fetchTrustBundle(o.ca.url)));
    } catch (err) {
      verdicts.push({ level: "FAIL", check: "ca", detail: `${o.ca.url} unreachable: ${err instanceof Error ? err.message : String(err)}` });
    }
  }
  return { verdicts, exitCode: exitCodeFor(verdicts, unreachable) };
}
