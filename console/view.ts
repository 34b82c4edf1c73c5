// Turns what the console scraped (and what Consul says) into the page's model: members and their health, the
// service graph with requests/s, error ratio and p99 per edge, certificate expiry, rejected config documents.
import type { ConfigIssue } from "../shared/config/issues.ts";
import type { MemberFigures } from "./figures.ts";
import { edgeDelta, mergeDeltas, summarize, type EdgeDelta } from "./window.ts";

export type Scraped = { t: number; figures: MemberFigures };

/** One scrape target and everything known about it. */
export type TargetState = {
  id: string;
  origin: "self" | "static" | "consul";
  /** Where its metrics come from ("in process" for the gateway itself), or why there are none. */
  address: string;
  consul?: { service: string; kind: string; node: string; health: "passing" | "warning" | "critical"; output: string };
  /** Its `mesh-status/<id>` report from Consul KV, when it publishes one. */
  report?: { config?: number; source?: string; certNotAfter?: string; reportedAt?: string; rejected?: number };
  /** Newest scrape, and the oldest one still inside the rate window. */
  latest?: Scraped;
  earliest?: Scraped;
  error?: string;
};

export type ConsoleInput = {
  now: number;
  self: { service: string; configVersion: number; source: string; rejected: ConfigIssue[]; rejectedDocuments: ConfigIssue[]; rejectedAt?: string; held?: string };
  targets: TargetState[];
  /** Problems with the console's own sources (Consul unreachable, ...), shown above everything. */
  notes?: string[];
};

export type MemberRow = {
  /** `id` keys the member; `name` is what the page shows (a static target's host:port rather than its URL). */
  id: string; name: string; service: string; kind: string; origin: TargetState["origin"]; address: string;
  health: "up" | "down" | "passing" | "warning" | "critical"; detail: string;
  spiffeId: string; runtime: string; version: string;
  configVersion: number | undefined; behind: boolean; rejectedDocuments: number; held: boolean;
  certNotAfter: string | undefined; certHoursLeft: number | undefined;
};
/** `rps` is requests/s for HTTP, new connections/s for TCP (whose errors are connections not carried). */
export type EdgeRow = { from: string; to: string; protocol: "http" | "tcp"; rps: number; errorRatio: number | undefined; p99Ms: number | undefined; bytesPerSecond?: number; reporter: "source" | "destination" };
export type ConsoleView = {
  generatedAt: string; windowSeconds: number | undefined;
  self: { service: string; configVersion: number; source: string; held: string | undefined };
  members: MemberRow[]; services: { name: string; kind: string; instances: number; healthy: number }[]; edges: EdgeRow[];
  rejected: (ConfigIssue & { scope: "document" | "config" })[]; rejectedAt: string | undefined;
  notes: string[];
};

const HEALTHY = new Set(["up", "passing"]);

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function memberRow(t: TargetState, newest: Map<string, number>, now: number): MemberRow {
  const f = t.latest?.figures;
  // Unknown until a scrape answers (a static target that never did): shown as such, and no node in the graph.
  const service = f?.service || t.consul?.service || "";
  const health: MemberRow["health"] = t.consul !== undefined ? t.consul.health : t.error === undefined && f !== undefined ? "up" : "down";
  const detail = t.error !== undefined ? `metrics: ${t.error}` : t.consul?.output.trim().split("\n")[0] ?? "";
  const certMs = f?.certNotAfter ?? (t.report?.certNotAfter === undefined ? undefined : Date.parse(t.report.certNotAfter));
  const configVersion = f?.configVersion ?? t.report?.config;
  const key = t.report?.source?.replace(/ @\d+$/, "");
  const top = key === undefined ? undefined : newest.get(key);
  return {
    id: t.id, name: t.origin === "static" ? hostOf(t.id) : t.id, service, kind: f?.kind || t.consul?.kind || "", origin: t.origin, address: t.address, health, detail,
    spiffeId: f?.spiffeId ?? "", runtime: f?.runtime ?? "", version: f?.version ?? "",
    configVersion, behind: top !== undefined && configVersion !== undefined && configVersion < top,
    rejectedDocuments: f?.rejectedDocuments ?? t.report?.rejected ?? 0, held: f?.held ?? false,
    certNotAfter: certMs === undefined || Number.isNaN(certMs) ? undefined : new Date(certMs).toISOString(),
    certHoursLeft: certMs === undefined || Number.isNaN(certMs) ? undefined : (certMs - now) / 3_600_000,
  };
}

/** Caller-side edges from every member scraped twice; callee-side ones only for callers whose own side is unseen. */
function edges(targets: readonly TargetState[]): { rows: EdgeRow[]; windowSeconds: number | undefined } {
  const bySource = new Map<string, { delta: EdgeDelta; bounds: number[] }>();
  const byDestination = new Map<string, EdgeDelta>();
  const tcp = new Map<string, { delta: EdgeDelta; bytesPerSecond: number }>();
  const seenCallers = new Set<string>();
  let window: number | undefined;
  for (const t of targets) {
    if (t.latest === undefined || t.earliest === undefined || t.latest.t <= t.earliest.t) continue;
    const seconds = (t.latest.t - t.earliest.t) / 1000;
    window = Math.max(window ?? 0, seconds);
    const now = t.latest.figures;
    const before = t.earliest.figures;
    seenCallers.add(now.service);
    for (const [dest, c] of now.outbound) {
      const key = `${now.service}\u0000${dest}`;
      const cur = bySource.get(key);
      bySource.set(key, { delta: mergeDeltas(cur?.delta, edgeDelta(c, before.outbound.get(dest), seconds)), bounds: now.bounds });
    }
    for (const [dest, c] of now.tcpOutbound) {
      const key = `${now.service}\u0000${dest}`;
      const b = before.tcpOutbound.get(dest);
      const bytes = b === undefined || c.bytes < b.bytes ? c.bytes : c.bytes - b.bytes;
      const cur = tcp.get(key);
      tcp.set(key, { delta: mergeDeltas(cur?.delta, edgeDelta(c, b, seconds)), bytesPerSecond: (cur?.bytesPerSecond ?? 0) + bytes / seconds });
    }
    for (const [caller, c] of now.inbound) {
      const key = `${caller}\u0000${now.service}`;
      byDestination.set(key, mergeDeltas(byDestination.get(key), edgeDelta(c, before.inbound.get(caller), seconds)));
    }
  }
  const rows: EdgeRow[] = [];
  for (const [key, { delta, bounds }] of bySource) {
    const [from, to] = key.split("\u0000") as [string, string];
    rows.push({ from, to, protocol: "http", ...pick(summarize(delta, bounds)), reporter: "source" });
  }
  for (const [key, { delta, bytesPerSecond }] of tcp) {
    const [from, to] = key.split("\u0000") as [string, string];
    rows.push({ from, to, protocol: "tcp", ...pick(summarize(delta, [])), bytesPerSecond, reporter: "source" });
  }
  for (const [key, delta] of byDestination) {
    const [from, to] = key.split("\u0000") as [string, string];
    if (seenCallers.has(from)) continue;
    rows.push({ from, to, protocol: "http", ...pick(summarize(delta, [])), reporter: "destination" });
  }
  rows.sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
  return { rows, windowSeconds: window };
}

const pick = (r: ReturnType<typeof summarize>) => ({ rps: r.rps, errorRatio: r.errorRatio, p99Ms: r.p99Ms });

export function buildView(input: ConsoleInput): ConsoleView {
  const newest = new Map<string, number>();
  for (const t of input.targets) {
    const key = t.report?.source?.replace(/ @\d+$/, "");
    const v = t.latest?.figures.configVersion ?? t.report?.config;
    if (key !== undefined && v !== undefined) newest.set(key, Math.max(newest.get(key) ?? 0, v));
  }
  const members = input.targets.map((t) => memberRow(t, newest, input.now));
  members.sort((a, b) => a.service.localeCompare(b.service) || a.id.localeCompare(b.id));
  const { rows, windowSeconds } = edges(input.targets);
  const services = new Map<string, { name: string; kind: string; instances: number; healthy: number }>();
  for (const m of members) {
    if (m.service === "") continue;
    const s = services.get(m.service) ?? { name: m.service, kind: m.kind, instances: 0, healthy: 0 };
    s.instances++;
    if (HEALTHY.has(m.health)) s.healthy++;
    services.set(m.service, s);
  }
  // Callers and destinations the console has no member for (an app outside the mesh, a service with no instance).
  for (const e of rows) for (const n of [e.from, e.to]) if (!services.has(n)) services.set(n, { name: n, kind: "", instances: 0, healthy: 0 });
  const s = input.self;
  return {
    generatedAt: new Date(input.now).toISOString(), windowSeconds,
    self: { service: s.service, configVersion: s.configVersion, source: s.source, held: s.held },
    members, services: [...services.values()], edges: rows,
    rejected: [...s.rejectedDocuments.map((i) => ({ ...i, scope: "document" as const })), ...s.rejected.map((i) => ({ ...i, scope: "config" as const }))],
    rejectedAt: s.rejectedAt, notes: input.notes ?? [],
  };
}
