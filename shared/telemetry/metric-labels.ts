// Turns observation events into bounded metric label values: side, status class, service and subset from the
// cluster name, the caller's service from its SPIFFE id, the mesh's error cause. Never a path, address or id.
import type { AttemptEvent, RequestEvent } from "./observe.ts";
import type { ErrorCause } from "../http/errors.ts";
import { parseSpiffeId } from "../pki/spiffe.ts";

/** Where an event was seen: the gateway's listeners, the sidecar's app → mesh listener, or its mesh → app listener. */
export type Side = "gateway" | "outbound" | "inbound" | "other";

export const OTHER = "other";

/** Label names in the order the value arrays below use. */
export const REQUEST_LABELS = ["side", "route", "destination_service", "destination_subset", "source_service", "response_code_class", "cause"] as const;
export const DURATION_LABELS = ["side", "route", "destination_service", "response_code_class"] as const;
export const RETRY_LABELS = ["side", "destination_service"] as const;
export const ATTEMPT_LABELS = ["side", "destination_service", "destination_subset", "outcome"] as const;
export const ATTEMPT_DURATION_LABELS = ["side", "destination_service", "destination_subset"] as const;
export const AUTHZ_LABELS = ["decision", "rule"] as const;

/** The contract's buckets (seconds) for request and upstream durations: 0.5 ms to 10 s. */
export const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

// A Record over the union: adding a cause to the error model without listing it here fails the type check.
const CAUSES: Record<ErrorCause, true> = {
  "connect-failure": true, reset: true, "identity-mismatch": true, "no-healthy-endpoint": true, timeout: true,
  "bad-request": true, "invalid-path": true, "uri-too-long": true, "headers-too-large": true, "body-too-large": true,
  "request-timeout": true, "not-implemented": true, "no-route": true, forbidden: true, unavailable: true, internal: true,
  overflow: true, "rate-limited": true, "fault-abort": true, "fault-reset": true,
};

const OUTCOMES: Record<AttemptEvent["outcome"], true> = {
  success: true, "http-5xx": true, "connect-failure": true, reset: true, timeout: true, "identity-mismatch": true, "no-healthy-endpoint": true, overflow: true,
};

export function sideOf(listener: string): Side {
  if (listener === "outbound" || listener === "inbound") return listener;
  return listener.startsWith("gateway/") ? "gateway" : "other";
}

/** "2xx" .. "5xx"; anything outside 200-599 (no final response should be) is "other". */
export function statusClass(status: number): string {
  return status >= 200 && status < 600 ? `${Math.floor(status / 100)}xx` : OTHER;
}

/** The mesh's own cause (x-mesh-error) when it answered itself, "" when the upstream did, "other" if unknown. */
export function causeLabel(cause: string | undefined): string {
  if (cause === undefined) return "";
  return Object.hasOwn(CAUSES, cause) ? cause : OTHER;
}

export function outcomeLabel(outcome: string): string {
  return Object.hasOwn(OUTCOMES, outcome) ? outcome : OTHER;
}

/** Cluster names are "svc" or "svc/subset"; "" for both when the request reached no cluster. */
export function splitCluster(cluster: string | undefined): readonly [service: string, subset: string] {
  if (cluster === undefined || cluster === "") return ["", ""];
  const slash = cluster.indexOf("/");
  return slash < 0 ? [cluster, ""] : [cluster.slice(0, slash), cluster.slice(slash + 1)];
}

/**
 * The caller's service on the inbound side: "unauthenticated" for a plaintext caller (permissive), the service of a
 * SPIFFE id in this trust domain, "other" for anything else. The transport verified the id; the bound caps the rest.
 */
export function sourceService(peer: string | undefined, trustDomain: string): string {
  if (peer === undefined) return "unauthenticated";
  const id = parseSpiffeId(peer);
  return id === undefined || id.trustDomain !== trustDomain ? OTHER : id.service;
}

/**
 * Keeps a label's distinct values bounded: the first `limit` values pass as they are, later new ones become
 * "other". Route and rule names come from config, so the cap only bites on a runaway config or a bug.
 */
export function boundedValues(limit: number): (value: string) => string {
  const seen = new Set<string>();
  return (value) => {
    if (value === "" || seen.has(value)) return value;
    if (seen.size >= limit) return OTHER;
    seen.add(value);
    return value;
  };
}

export type LabelContext = {
  /** The member's own service: the destination of everything its inbound side sees. */
  readonly service: string;
  readonly trustDomain: string;
  /** One cap per label whose values come from config (or, for callers, from certificates the CA issued). */
  readonly bound: { readonly route: Bound; readonly service: Bound; readonly subset: Bound; readonly rule: Bound };
};

type Bound = (value: string) => string;

export const LABEL_LIMIT = 256;

export function labelContext(service: string, trustDomain: string, limit = LABEL_LIMIT): LabelContext {
  const bound = { route: boundedValues(limit), service: boundedValues(limit), subset: boundedValues(limit), rule: boundedValues(limit) };
  return { service, trustDomain, bound };
}

export type RequestLabelValues = {
  readonly side: Side;
  readonly requests: readonly string[]; // REQUEST_LABELS
  readonly duration: readonly string[]; // DURATION_LABELS
  readonly retries: readonly string[]; // RETRY_LABELS
};

export function requestLabels(e: RequestEvent, c: LabelContext): RequestLabelValues {
  const side = sideOf(e.listener);
  const inbound = side === "inbound";
  const [svc, subset] = inbound ? [c.service, ""] : splitCluster(e.cluster);
  const dest = c.bound.service(svc);
  const route = c.bound.route(e.route ?? "");
  const source = inbound ? c.bound.service(sourceService(e.peer, c.trustDomain)) : "";
  const cls = statusClass(e.status);
  return {
    side,
    requests: [side, route, dest, c.bound.subset(subset), source, cls, causeLabel(e.cause)],
    duration: [side, route, dest, cls],
    retries: [side, dest],
  };
}

/** Attempts carry no listener: a member's upstream tries all come from one side (gateway, or the outbound sidecar). */
export function attemptLabels(e: AttemptEvent, side: Side, c: LabelContext): { readonly attempts: readonly string[]; readonly duration: readonly string[] } {
  const [svc, subset] = splitCluster(e.cluster);
  const dest = c.bound.service(svc);
  const sub = c.bound.subset(subset);
  return { attempts: [side, dest, sub, outcomeLabel(e.outcome)], duration: [side, dest, sub] };
}

export function authzLabels(authz: { readonly allowed: boolean; readonly rule: string }, c: LabelContext): readonly string[] {
  return [authz.allowed ? "allow" : "deny", authz.rule === "default" ? "default" : c.bound.rule(authz.rule)];
}
