// Core shapes of the routing core, shared by gateway and sidecar (runtime-neutral: Request/Response only).
// Kept in one small file so every module agrees on the same nouns: endpoint, cluster, route, filter, snapshot.

/** One upstream instance as discovery reports it: for the mesh, the address of its inbound sidecar. */
export type Endpoint = {
  readonly id: string;
  readonly address: string;
  readonly port: number;
  readonly tags: readonly string[];
  readonly meta: Readonly<Record<string, string>>;
};

/** What one forwarding attempt ended as; feeds balancers (and later outlier detection). */
export type Outcome = "success" | "connect-failure" | "reset" | "timeout" | "http-5xx";

export interface Balancer {
  /** Replace the endpoint set; keeps per-endpoint state (e.g. in-flight counts) for endpoints that stay. */
  update(endpoints: readonly Endpoint[]): void;
  /**
   * Pick an endpoint, avoiding `exclude` (endpoint ids already tried) when another is available. `hash` is the request's
   * affinity key hashed (consistent-hash balancers map it onto the same endpoint; others ignore it).
   */
  pick(exclude?: ReadonlySet<string>, hash?: number): Endpoint | undefined;
  /** An attempt on `endpoint` started (least-request counts in-flight). */
  start(endpoint: Endpoint): void;
  /** An attempt on `endpoint` ended with `outcome` (and `status` when a response came). Always paired with one start(). */
  report(endpoint: Endpoint, outcome: Outcome, status?: number): void;
}

export type LoadBalancerKind = "round_robin" | "least_request" | "ring_hash" | "maglev";

export type RetryOn = "connect-failure" | "reset" | "5xx" | "gateway-error" | number;

export type CompiledRetry = {
  readonly attempts: number; // total tries, including the first
  readonly on: ReadonlySet<RetryOn>;
  readonly perTryTimeoutMs: number | undefined;
  readonly backoffMs: number;
  readonly allowNonIdempotent: boolean;
  readonly maxReplayBytes: number;
  /** Linkerd's retry budget (state per cluster); undefined: retries are bounded by `attempts` alone. */
  readonly budget: { readonly ratio: number; readonly minPerSecond: number; readonly ttlMs: number } | undefined;
};

/** What a consistent-hash balancer hashes; "caller": the verified peer, else the downstream's address. */
export type HashOnKind = { readonly header: string } | { readonly cookie: string } | { readonly caller: true };

export type CompiledPolicy = {
  readonly loadBalancer: LoadBalancerKind;
  readonly hashOn: HashOnKind | undefined;
  readonly timeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly retries: CompiledRetry | undefined;
};

/** Where a request goes: a service, or a subset of its instances. Owns the balancer over its endpoints. */
export type Cluster = {
  readonly name: string; // "echo" or "echo/v1"
  readonly service: string;
  readonly subset: string | undefined;
  /** The SPIFFE id the upstream's certificate must carry. */
  readonly spiffeId: string;
  readonly balancer: Balancer;
  endpoints(): readonly Endpoint[];
};

/**
 * This hop's span in a trace (telemetry/trace-hop.ts), for the request event (access log, tracing) and the upstream's
 * traceparent. Only sampled hops are recorded; an unsampled one still has ids, so the trace stays whole across members
 * and log lines can name it.
 */
export type HopTrace = {
  readonly traceId: string;
  readonly spanId: string;
  /** The caller's span (from its traceparent or B3 headers); undefined when this hop started the trace. */
  readonly parentSpanId: string | undefined;
  readonly sampled: boolean;
  /** The caller's tracestate when it was valid; passed on unchanged. */
  readonly tracestate: string | undefined;
  /** "b3" when the context came from either B3 form: upstream gets a traceparent instead. */
  readonly from: "traceparent" | "b3" | undefined;
  /** The traceparent sent upstream, when the hop was made with it: its ids sit at chars 3-35 and 36-52. */
  readonly traceparent?: string;
};

/** Per-request state threaded through filters. Created by the listener, never shared between requests. */
export type RequestContext = {
  readonly requestId: string;
  readonly startedAt: number;
  /** Aborted when the downstream goes away or a timeout filter fires. */
  signal: AbortSignal;
  /**
   * Aborts `signal` for the whole request. Listeners create one controller per request; the whole-request
   * timeout uses it directly instead of deriving a child signal (AbortSignal.any costs microseconds per request).
   */
  readonly cancel?: (reason: unknown) => void;
  /** Endpoint ids already tried by this request (retry picks a fresh one). */
  readonly tried: Set<string>;
  /** Set by the innermost handler so logs and retries know where an attempt went. */
  lastEndpoint?: Endpoint;
  lastCluster?: string;
  /** The caller's SPIFFE id from its verified certificate (inbound only); policies key on it, never on a header. */
  peer?: string;
  /** The downstream's address where a listener knows it (gateway, outbound): what "caller" keys on without a peer. */
  clientIp?: string;
  /** The request's affinity key, hashed (set by the hash filter on routes with a consistent-hash balancer). */
  hash?: number;
  /** What fault injection did to this request, for the access log and metrics. */
  fault?: "delay" | "abort" | "delay+abort";
  /** The authorization verdict, when a policy decided (inbound): for metrics; `rule` is the rule name or "default". */
  authz?: { readonly allowed: boolean; readonly rule: string };
  /** Set only when someone subscribed to attempt events (telemetry/observe.ts): the cluster handler reports each try. */
  observe?: { attempt(e: AttemptEvent): void };
  /** Upstream tries made so far: counted by the retry filter (0 on routes without retries). */
  attempts: number;
  /** This hop's span when the request is part of a trace; every attempt's traceparent names it as parent. */
  trace?: HopTrace;
};

/** One upstream try, for observers (telemetry/observe.ts): which endpoint, how it ended, how long it took. */
export type AttemptEvent = {
  readonly requestId: string;
  readonly cluster: string;
  readonly endpoint: Endpoint;
  readonly try: number; // 1 for the first attempt
  /** HTTP status, or undefined when the attempt failed before a response (see `outcome`). */
  readonly status: number | undefined;
  readonly outcome: "success" | "http-5xx" | "connect-failure" | "reset" | "timeout" | "identity-mismatch" | "no-healthy-endpoint" | "overflow";
  readonly durationMs: number;
  /** The span that made the attempt (the request's hop), when the request is part of a trace. */
  readonly trace?: HopTrace;
};

export type Handler = (req: Request, ctx: RequestContext) => Promise<Response>;

/** Filters are built once from validated config, so config errors surface at reload, never per request. */
export type Filter = (next: Handler) => Handler;

/** The parts of a request the route table matches on; path is the canonical one. */
export type RequestHead = {
  readonly method: string;
  readonly host: string; // lowercase, port stripped
  readonly path: string; // canonical, decoded once, no query
  readonly headers: Pick<Headers, "get">;
  readonly query: URLSearchParams;
};

/** Thrown/returned by forwarding code; mapped to 502/503/504 by http/errors.ts. */
export type UpstreamErrorKind = "connect-failure" | "reset" | "timeout" | "no-healthy-endpoint" | "identity-mismatch" | "overflow";

export class UpstreamError extends Error {
  readonly kind: UpstreamErrorKind;
  constructor(kind: UpstreamErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.name = "UpstreamError";
  }
}
