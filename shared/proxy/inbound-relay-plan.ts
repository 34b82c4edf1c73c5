// The inbound's fast path, decided per request head: when no L7 policy needs a Request, the runtime relays the
// request with the head rewritten here (identity, request id, forwarding and trace headers) instead of a Request + fetch.
import type { HopTrace } from "../types.ts";
import type { Observation } from "../telemetry/observe.ts";
import type { ResolvedLimits } from "./hygiene.ts";
import type { Authorizer } from "../filters/authorization.ts";
import type { InboundPolicy } from "./snapshot.ts";
import { requestIdOf, setForwardedHeaders } from "./hygiene.ts";
import { canonicalizePath, isCanonicalPath } from "../http/canonical-path.ts";
import { targetPath, targetSearch } from "../http/url.ts";
import { isHopByHop } from "../http/hop-by-hop.ts";
import { FieldList } from "../http/field-list.ts";
import { ABSENT_HEADER, CLIENT_ID_HEADER } from "../filters/identity.ts";
import { propagateTrace } from "../telemetry/trace-hop.ts";
import { mayInject } from "../filters/fault.ts";
import { rateLimitKeyOf } from "../filters/rate-limit.ts";

/** A parsed request head, as the runtime's HTTP/1.1 parser gives it (field names lower-case, in arrival order). */
export type RelayHead = {
  readonly method: string;
  readonly target: string;
  readonly fields: ReadonlyArray<readonly [string, string]>;
  /** Names the Connection field lists (extra hop-by-hop fields). */
  readonly connection: ReadonlySet<string> | undefined;
};

export type RelayPlan = {
  /** The canonical path and the query as received: what the app is asked for. */
  readonly target: string;
  /** Fields for the app: hop-by-hop and framing fields removed (the runtime adds its own framing). */
  readonly fields: Array<readonly [string, string]>;
  readonly requestId: string;
  readonly trace: HopTrace | undefined;
  readonly authz: { readonly allowed: boolean; readonly rule: string } | undefined;
  readonly startedAt: number;
};

export type RelayPlannerOptions = {
  readonly limits: () => ResolvedLimits;
  readonly authorizer: () => Authorizer | undefined;
  /** The service's own inbound policy (rate limit, fault): decided per head, as the outbound planner does a route's. */
  readonly policy: () => InboundPolicy | undefined;
  readonly traceSampling: () => number;
};

/** `peer` undefined: a plaintext caller of a permissive inbound. Returns undefined when the full path must answer. */
export type RelayPlanner = (head: RelayHead, peer: string | undefined) => RelayPlan | undefined;

const PARSER_HEADER_CAP = 16 * 1024;

/**
 * The head's fields a relay may forward (hop-by-hop and Content-Length out: the runtime frames the body itself), or
 * undefined when they exceed a header limit below the parser's own 16 KiB cap (the full path answers 431 then). A new
 * list holding the head's own pairs: a pair is never edited in place (FieldList replaces whole pairs), so sharing them
 * leaves the head as parsed for the full path, and saves an array per field (bench/alloc.ts: B 79.9 -> 74.9 objects).
 */
export function forwardableFields(head: RelayHead, limits: ResolvedLimits): Array<readonly [string, string]> | undefined {
  let headerBytes = 0;
  const fields: Array<readonly [string, string]> = [];
  const all = head.fields;
  for (let i = 0; i < all.length; i++) {
    const f = all[i]!;
    const n = f[0];
    headerBytes += n.length + f[1].length + 4;
    if (n === "content-length" || isHopByHop(n, head.connection)) continue;
    fields.push(f);
  }
  return limits.maxHeaderBytes < PARSER_HEADER_CAP && headerBytes > limits.maxHeaderBytes ? undefined : fields;
}

const ALLOWED_BY_DEFAULT = { allowed: true, rule: "default" } as const;

/**
 * Anything that would be refused, and anything an L7 policy acts on, goes to the full path, which owns every error
 * response: the relay only ever forwards, so there is one place that decides what a refusal looks like. The service's
 * inbound policy is asked last, in the full path's order after authorization: a request its fault targets, or one its
 * rate limit has no token for, goes to the full path (which rolls the fault's dice, or answers 429); the token of a
 * relayed request is taken here, so nothing is taken twice.
 */
export function createRelayPlanner(o: RelayPlannerOptions): RelayPlanner {
  return (head, peer) => {
    const startedAt = performance.now();
    const limits = o.limits();
    if (head.target.length > limits.maxUriLength) return undefined;
    const pathname = targetPath(head.target);
    const search = targetSearch(head.target);
    let path = pathname;
    if (!isCanonicalPath(pathname, search)) {
      const canonical = canonicalizePath(pathname, search);
      if (!canonical.ok) return undefined;
      path = canonical.path;
    }
    const fields = forwardableFields(head, limits);
    if (fields === undefined) return undefined;
    const list = new FieldList(fields);
    const requestId = requestIdOf(list);
    list.set("x-request-id", requestId);
    // As the full path's identity filter: the app learns its caller only from the verified certificate.
    const absent = list.get(ABSENT_HEADER);
    if (absent !== null) {
      list.delete(ABSENT_HEADER);
      if (peer !== undefined) {
        for (const t of absent.split(",")) {
          const name = t.trim().toLowerCase();
          if (name === "user-agent" || name === "accept") list.delete(name);
        }
      }
    }
    list.delete(CLIENT_ID_HEADER);
    if (peer !== undefined) list.set(CLIENT_ID_HEADER, peer);
    if (peer === undefined) list.delete("x-forwarded-for");
    setForwardedHeaders(list, undefined, peer === undefined ? "http" : "https", peer !== undefined);
    const trace = propagateTrace(list, o.traceSampling());

    let authz: RelayPlan["authz"];
    const authorizer = o.authorizer();
    if (authorizer !== undefined) {
      const v = authorizer.evaluate({ peer, method: head.method, path, headers: list });
      // A denial is answered by the full path (403 naming the rule), which evaluates the same policy again.
      if (!v.allowed) return undefined;
      authz = v.rule === undefined ? ALLOWED_BY_DEFAULT : { allowed: true, rule: v.rule };
    }
    const policy = o.policy();
    if (policy !== undefined) {
      if (policy.fault !== undefined && mayInject(policy.fault, list, peer)) return undefined;
      const limit = policy.rateLimit;
      if (limit !== undefined) {
        // A plaintext caller's own bucket is keyed by its address, which only the full path knows.
        if (peer === undefined && limit.key !== undefined && "caller" in limit.key) return undefined;
        if (limit.buckets.take(rateLimitKeyOf(limit.key, list, peer, undefined), performance.now()) !== 0) return undefined;
      }
    }
    return { target: path + search, fields, requestId, trace, authz, startedAt };
  };
}

/** The request event of a relayed request (same shape as the full path's), when someone listens. */
export function emitRelayed(
  observe: Observation,
  plan: RelayPlan,
  e: { method: string; target: string; peer: string | undefined; status: number; cause: string | undefined; headAt: number; bytesIn: number | undefined; bytesOut: number | undefined },
): void {
  observe.request({
    listener: "inbound",
    method: e.method,
    path: e.target,
    status: e.status,
    cause: e.cause,
    requestId: plan.requestId,
    startedAt: plan.startedAt,
    durationMs: e.headAt - plan.startedAt,
    route: undefined,
    cluster: undefined,
    endpoint: undefined,
    attempts: 0,
    peer: e.peer,
    authz: plan.authz,
    bytesIn: e.bytesIn,
    bytesOut: e.bytesOut,
    trace: plan.trace,
  });
}
