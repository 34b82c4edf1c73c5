// The one config model of the mesh (valibot), shared by the file provider and, later, Consul KV.
// Structural rules live here; cross-references and regex validity are checked in validate.ts.
import * as v from "valibot";

const Name = v.pipe(
  v.string(),
  v.regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "must be a DNS label: lowercase letters, digits and '-', 1-63 chars"),
);

/** "250ms", "5s", "2m": parsed to milliseconds at compile time. */
export const Duration = v.pipe(v.string(), v.regex(/^\d+(ms|s|m)$/, "must be a duration like 250ms, 5s or 2m"));

const Port = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535));
const Bytes = v.pipe(v.number(), v.integer(), v.minValue(0));
const HeaderName = v.pipe(v.string(), v.regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "must be a valid HTTP header name"));
const StringMap = v.record(v.string(), v.string());

/**
 * A route's path condition. `mergeSlashes: true` lets this route take requests whose only flaw is repeated
 * slashes ("//echo//x"), matched and forwarded as "/echo/x"; without it they get 400 (docs/path-normalization.md).
 * It sits next to the path because it only changes which paths this condition accepts.
 */
const MergeSlashes = v.optional(v.boolean());
export const PathMatch = v.union(
  [
    v.strictObject({ exact: v.string(), mergeSlashes: MergeSlashes }),
    v.strictObject({ prefix: v.string(), mergeSlashes: MergeSlashes }),
    v.strictObject({ regex: v.string(), mergeSlashes: MergeSlashes }),
  ],
  "must be one of {exact}, {prefix} or {regex}",
);

export const HeaderMatch = v.strictObject({
  name: HeaderName,
  exact: v.optional(v.string()),
  prefix: v.optional(v.string()),
  regex: v.optional(v.string()),
  present: v.optional(v.boolean()),
  invert: v.optional(v.boolean()),
});

export const QueryMatch = v.strictObject({
  name: v.string(),
  exact: v.optional(v.string()),
  regex: v.optional(v.string()),
  present: v.optional(v.boolean()),
});

export const RouteMatch = v.strictObject({
  host: v.optional(v.array(v.string())),
  path: v.optional(PathMatch),
  methods: v.optional(v.array(v.picklist(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"]))),
  headers: v.optional(v.array(HeaderMatch)),
  query: v.optional(v.array(QueryMatch)),
});

export const HeaderOps = v.strictObject({
  set: v.optional(StringMap),
  add: v.optional(StringMap),
  remove: v.optional(v.array(HeaderName)),
});

const Percent = v.pipe(v.number(), v.minValue(0, "must be a percentage from 0 to 100"), v.maxValue(100, "must be a percentage from 0 to 100"));
const Count = v.pipe(v.number(), v.integer(), v.minValue(0));
const PositiveCount = v.pipe(v.number(), v.integer(), v.minValue(1));

/**
 * Linkerd's retry budget: retries may add at most `percent` of the requests of the last `ttl`, plus `minRetriesPerSecond`
 * (so a quiet service can still retry). Counted per destination cluster, shared by every route to it.
 */
export const RetryBudget = v.strictObject({
  percent: v.optional(Percent),
  minRetriesPerSecond: v.optional(Count),
  ttl: v.optional(Duration),
});

export const RetryPolicy = v.strictObject({
  attempts: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(10)),
  budget: v.optional(RetryBudget),
  on: v.optional(
    v.array(v.union([v.picklist(["connect-failure", "reset", "5xx", "gateway-error"]), v.pipe(v.number(), v.integer(), v.minValue(500), v.maxValue(599))])),
  ),
  perTryTimeout: v.optional(Duration),
  backoff: v.optional(Duration),
  allowNonIdempotent: v.optional(v.boolean()),
  maxReplayBytes: v.optional(Bytes),
});

/**
 * Fault injection: delay and/or abort a share of requests before the upstream is contacted. On a route it is applied by
 * the caller's member (gateway or outbound sidecar); on a service by that service's own inbound sidecars. `when`
 * narrows it: every header condition must hold, the caller must be one of `from` (service names or SPIFFE ids: on a
 * route, the member applying it; on a service, the verified caller), the inbound instance one of `instances`.
 */
export const FaultPolicy = v.strictObject({
  delay: v.optional(v.strictObject({ fixed: Duration, percent: v.optional(Percent) })),
  abort: v.optional(v.strictObject({
    status: v.optional(v.pipe(v.number(), v.integer(), v.minValue(200), v.maxValue(599))),
    reset: v.optional(v.literal(true)),
    percent: v.optional(Percent),
  })),
  when: v.optional(v.strictObject({
    headers: v.optional(v.array(HeaderMatch)),
    from: v.optional(v.array(v.string())),
    instances: v.optional(v.array(v.string())),
  })),
});

/** Envoy's cluster thresholds; overflow answers 503 (cause "overflow") at once, never an unbounded queue. */
export const CircuitBreakerPolicy = v.strictObject({
  maxConnections: v.optional(PositiveCount),
  maxPendingRequests: v.optional(Count),
  maxRequests: v.optional(PositiveCount),
  maxRetries: v.optional(Count),
});

/** Envoy's outlier detection (consecutive errors): endpoints that keep failing are ejected for a growing time. */
export const OutlierDetectionPolicy = v.strictObject({
  consecutive5xx: v.optional(PositiveCount),
  consecutiveGatewayErrors: v.optional(PositiveCount),
  interval: v.optional(Duration),
  baseEjectionTime: v.optional(Duration),
  maxEjectionTime: v.optional(Duration),
  maxEjectionPercent: v.optional(Percent),
  minHealthPercent: v.optional(Percent),
});

/** A local token bucket: `requestsPerSecond` steady, `burst` at once; keyed by a header or the caller when `key` says so. */
export const RateLimitPolicy = v.strictObject({
  requestsPerSecond: v.pipe(v.number(), v.minValue(0.001, "must be above 0")),
  burst: v.optional(PositiveCount),
  key: v.optional(v.strictObject({ header: v.optional(HeaderName), caller: v.optional(v.literal(true)) })),
});

/** What a consistent-hash balancer (ring_hash, maglev) hashes: one of a header, a cookie, or the caller. */
export const HashOn = v.strictObject({
  header: v.optional(HeaderName),
  cookie: v.optional(v.pipe(v.string(), v.regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "must be a valid cookie name"))),
  caller: v.optional(v.literal(true)),
});

/**
 * Per-destination policy. On a route it applies to that route's destinations; on a service it is the default for every
 * route to it, and the cluster-level kinds (circuitBreaker, outlierDetection) live only there.
 */
export const Policy = v.strictObject({
  loadBalancer: v.optional(v.picklist(["round_robin", "least_request", "ring_hash", "maglev"])),
  hashOn: v.optional(HashOn),
  timeout: v.optional(Duration),
  retries: v.optional(RetryPolicy),
  connectTimeout: v.optional(Duration),
  concurrency: v.optional(v.unknown()),
  outlierDetection: v.optional(OutlierDetectionPolicy),
  fault: v.optional(FaultPolicy),
  rateLimit: v.optional(RateLimitPolicy),
  circuitBreaker: v.optional(CircuitBreakerPolicy),
});

/** Traffic mirroring: a share of a route's requests is also sent to another destination; its answer is thrown away. */
export const Mirror = v.strictObject({
  service: Name,
  subset: v.optional(Name),
  percent: v.optional(Percent),
  maxBodyBytes: v.optional(Bytes),
});

export const Destination = v.strictObject({
  service: Name,
  subset: v.optional(Name),
  weight: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(10000))),
});

export const RouteAction = v.strictObject({
  destinations: v.optional(v.pipe(v.array(Destination), v.minLength(1, "needs at least one destination"))),
  rewrite: v.optional(v.strictObject({ prefix: v.string() })),
  redirect: v.optional(
    v.strictObject({
      status: v.optional(v.picklist([301, 302, 303, 307, 308])),
      scheme: v.optional(v.picklist(["http", "https"])),
      host: v.optional(v.string()),
      path: v.optional(v.string()),
    }),
  ),
  directResponse: v.optional(v.strictObject({ status: v.pipe(v.number(), v.integer(), v.minValue(200), v.maxValue(599)), body: v.optional(v.string()) })),
  requestHeaders: v.optional(HeaderOps),
  responseHeaders: v.optional(HeaderOps),
  policy: v.optional(Policy),
  mirror: v.optional(Mirror),
});

const SAMPLING_RANGE = "must be a percentage from 0 to 100 (e.g. 1 = 1 %, 0.1 = one trace in a thousand)";

/**
 * Trace sampling: the percentage of traces a member starts that are recorded (fractions allowed). A caller's decision
 * (traceparent or B3) always wins: this only decides for traces that start here. Mesh-wide, and per route.
 */
export const Tracing = v.strictObject({
  sampling: v.optional(v.pipe(v.number(), v.minValue(0, SAMPLING_RANGE), v.maxValue(100, SAMPLING_RANGE))),
});

export const Route = v.strictObject({
  name: Name,
  match: v.optional(RouteMatch),
  action: RouteAction,
  tracing: v.optional(Tracing),
});

export const Instance = v.strictObject({
  id: v.string(),
  address: v.string(),
  /** The instance's inbound (mTLS) sidecar port: what callers connect to. */
  port: Port,
  tags: v.optional(v.array(v.string())),
  meta: v.optional(StringMap),
});

export const Subset = v.strictObject({
  tags: v.optional(v.array(v.string())),
  meta: v.optional(StringMap),
});

/**
 * How a service takes traffic (the modes of Istio's PeerAuthentication). "strict" (default): its instances are inbound
 * sidecars that accept mTLS only. "permissive": callers in the mesh still use mTLS, and the inbound port also accepts
 * plaintext HTTP from callers outside it, which carry no identity (for migrations). "disable": a service outside the
 * mesh, reached in plaintext.
 */
export const MtlsMode = v.picklist(["strict", "permissive", "disable"]);

/**
 * What a service speaks. "http" (default): requests are routed, authorized and measured one by one. "tcp": connections
 * are carried at L4 (mTLS with SPIFFE ids on the mesh hop, authorization by caller per connection, no HTTP parsing),
 * so nothing that needs a request (routes, paths, retries, faults, rate limits) applies; validate-tcp.ts says which.
 */
export const Protocol = v.picklist(["http", "tcp"]);

export const Service = v.strictObject({
  protocol: v.optional(Protocol),
  mtls: v.optional(MtlsMode),
  instances: v.optional(v.array(Instance)),
  subsets: v.optional(v.record(Name, Subset)),
  policy: v.optional(Policy),
});

export const Limits = v.strictObject({
  maxHeaderBytes: v.optional(v.pipe(Bytes, v.minValue(1024))),
  maxUriLength: v.optional(v.pipe(Bytes, v.minValue(64))),
  maxBodyBytes: v.optional(Bytes),
  headerTimeout: v.optional(Duration),
  idleTimeout: v.optional(Duration),
  bodyIdleTimeout: v.optional(Duration),
  bodyTimeout: v.optional(Duration),
  drainTimeout: v.optional(Duration),
});

export const Listener = v.strictObject({
  name: Name,
  address: v.optional(v.string()),
  port: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(65535)),
  tls: v.optional(v.strictObject({ cert: v.string(), key: v.string() })),
});

export const Gateway = v.strictObject({
  name: v.optional(Name),
  listeners: v.pipe(v.array(Listener), v.minLength(1, "needs at least one listener")),
  routes: v.array(Route),
});

const Action = v.picklist(["allow", "deny"]);

/**
 * The caller keyword for callers without an identity: plaintext requests a "permissive" inbound accepted. Only rules
 * that name it (and deny rules from "*") apply to them; a default never admits them.
 */
export const UNAUTHENTICATED = "unauthenticated";

/**
 * One authorization rule. A request matches when its caller is one of `from` (a service name, a SPIFFE id, "*" for
 * any verified caller, or "unauthenticated"; a deny rule's "*" also covers callers without an identity) AND, when
 * given, its canonical path matches one of `paths`, its method is one of `methods` and every header condition holds.
 * Deny rules win over allow rules.
 */
export const AuthzRule = v.strictObject({
  name: Name,
  action: Action,
  from: v.pipe(v.array(v.string()), v.minLength(1, 'needs at least one caller (a service name, a SPIFFE id, "*" or "unauthenticated")')),
  paths: v.optional(v.array(v.union([v.strictObject({ exact: v.string() }), v.strictObject({ prefix: v.string() })], "must be {exact} or {prefix}"))),
  methods: v.optional(v.array(v.pipe(v.string(), v.regex(/^[A-Z][A-Z0-9-]*$/, "must be an upper-case HTTP method")))),
  headers: v.optional(v.array(HeaderMatch)),
});

/** A service's inbound policy: its rules and the action when none matches (default: the mesh-wide default). */
export const AuthzPolicy = v.strictObject({
  default: v.optional(Action),
  rules: v.optional(v.array(AuthzRule)),
});

export const MeshConfig = v.strictObject({
  trustDomain: v.optional(v.pipe(v.string(), v.regex(/^[a-z0-9.-]+$/, "must be a lowercase DNS name"))),
  namespace: v.optional(Name),
  limits: v.optional(Limits),
  tracing: v.optional(Tracing),
  services: v.optional(v.record(Name, Service)),
  routes: v.optional(v.array(Route)),
  gateway: v.optional(Gateway),
  /** What every service's inbound does when no policy of its own decides (default allow, like a mesh without policy). */
  defaultAuthorization: v.optional(Action),
  /** Inbound authorization policies by service name. */
  authorization: v.optional(v.record(Name, AuthzPolicy)),
});

export type MeshConfig = v.InferOutput<typeof MeshConfig>;
export type RouteConfig = v.InferOutput<typeof Route>;
export type RouteMatchConfig = v.InferOutput<typeof RouteMatch>;
export type RouteActionConfig = v.InferOutput<typeof RouteAction>;
export type PolicyConfig = v.InferOutput<typeof Policy>;
export type RetryPolicyConfig = v.InferOutput<typeof RetryPolicy>;
export type FaultPolicyConfig = v.InferOutput<typeof FaultPolicy>;
export type CircuitBreakerConfig = v.InferOutput<typeof CircuitBreakerPolicy>;
export type OutlierDetectionConfig = v.InferOutput<typeof OutlierDetectionPolicy>;
export type RateLimitConfig = v.InferOutput<typeof RateLimitPolicy>;
export type HashOnConfig = v.InferOutput<typeof HashOn>;
export type MirrorConfig = v.InferOutput<typeof Mirror>;
export type ServiceConfig = v.InferOutput<typeof Service>;
export type MtlsModeConfig = v.InferOutput<typeof MtlsMode>;
export type ProtocolConfig = v.InferOutput<typeof Protocol>;
export type InstanceConfig = v.InferOutput<typeof Instance>;
export type HeaderOpsConfig = v.InferOutput<typeof HeaderOps>;
export type LimitsConfig = v.InferOutput<typeof Limits>;
export type ListenerConfig = v.InferOutput<typeof Listener>;
export type PathMatchConfig = v.InferOutput<typeof PathMatch>;
export type AuthzPolicyConfig = v.InferOutput<typeof AuthzPolicy>;
export type AuthzRuleConfig = v.InferOutput<typeof AuthzRule>;
export type TracingConfig = v.InferOutput<typeof Tracing>;
