// The Snapshot: immutable, compiled from one validated config, swapped atomically on reload.
// A request holds the snapshot it started with, so a reload never changes a request mid-flight.
import type { Cluster, CompiledRetry, Endpoint, Filter, Handler, HashOnKind } from "../types.ts";
import type { CompiledFault } from "../filters/fault.ts";
import type { RateLimitKey } from "../filters/rate-limit.ts";
import type { KeyedBuckets } from "../upstream/token-bucket.ts";
import type { RetryBudget } from "../upstream/retry-budget.ts";
import type { RouteTable } from "../routing/route-table.ts";
import type { Authorizer } from "../filters/authorization.ts";
import type { HeaderEdit } from "../filters/header-ops.ts";
import type { ManagedCluster } from "../upstream/cluster.ts";
import type { ResolvedLimits } from "./hygiene.ts";
import type { ListenerConfig, MtlsModeConfig, ProtocolConfig } from "../config/schema.ts";

/** What a route does; routes with equal actions and sampling share one (compile.ts), so it carries no route name. */
export type CompiledRoute = {
  readonly handler: Handler;
  /** Set when the listeners may relay this route's requests without building a Request (outbound-relay-plan.ts). */
  readonly fast?: FastRoute;
  /** The route's own trace sampling probability (0..1, from tracing.sampling percent); undefined = the mesh's. */
  readonly traceSampling: number | undefined;
};

/** One destination of a fast route: what the relay needs to forward a request to it itself. */
export type FastDestination = {
  readonly cluster: ManagedCluster;
  readonly service: ServiceInfo;
  readonly timeoutMs: number;
  readonly connectTimeoutMs: number;
  /** Its retry policy and the cluster's budget for it; the relay retries body-less requests. */
  readonly retry?: FastRetry;
  /** Session affinity for a consistent-hash balancer (header names in lower case): the relay hashes as the filter does. */
  readonly hashOn?: HashOnKind;
};

export type FastRetry = { readonly policy: CompiledRetry; readonly budget: RetryBudget | undefined };

/**
 * A route the relay can carry: one destination or a weighted split (a canary) over several, with no filter the relay
 * can't apply to a head (route-handler.ts fastRouteOf says which). `pick` draws one by weight, as the full path's split does; `destinations` are all that can be drawn.
 */
export type FastRoute = {
  readonly destinations: readonly FastDestination[];
  readonly pick: () => FastDestination;
  /** The route's requestHeaders / responseHeaders ops, when it has any (header-ops.ts, the full path's order). */
  readonly requestEdit?: HeaderEdit;
  readonly responseEdit?: HeaderEdit;
  /** Some destination retries: a request with a body takes the full path, which replays bodies (decided before the draw). */
  readonly retries: boolean;
  /** The route's local rate limit: the relay takes the token; a request it can't have one for takes the full path (429). */
  readonly rateLimit?: { readonly buckets: KeyedBuckets; readonly key: RateLimitKey };
  /** The route's fault: a request it targets takes the full path, whose filter rolls the dice; others are relayed. */
  readonly fault?: CompiledFault;
};

/**
 * A service's own inbound policy: `wrap` puts its filters (rate limit, then fault) in front of the app; the relay
 * decides per head from the same rate limit (its buckets) and fault (inbound-relay-plan.ts).
 */
export type InboundPolicy = {
  readonly wrap: Filter;
  readonly rateLimit?: { readonly buckets: KeyedBuckets; readonly key: RateLimitKey };
  readonly fault?: CompiledFault;
};

export type ServiceInfo = {
  readonly name: string;
  /** "permissive" is reached like "strict" (mTLS); only its own inbound also takes plaintext. */
  readonly mtls: MtlsModeConfig;
  /** "tcp": carried at L4 by both sidecars (the caller's --tcp-upstream listener, the service's inbound). */
  readonly protocol: ProtocolConfig;
  readonly spiffeId: string;
};

export type MutableCluster = ManagedCluster;

/** How the core reaches an endpoint; supplied by the runtime (mTLS mesh client, or plain fetch). */
export type Forwarder = (
  endpoint: Endpoint,
  cluster: Cluster,
  req: Request,
  opts: { signal: AbortSignal; connectTimeoutMs: number },
) => Promise<Response>;

export type Snapshot = {
  readonly version: number;
  readonly source: string;
  readonly trustDomain: string;
  readonly limits: ResolvedLimits;
  /** Probability (0..1) that a trace started here is sampled: the mesh-wide tracing.sampling percent / 100. */
  readonly traceSampling: number;
  /** Outbound sidecar table: explicit mesh routes, then one default route per service (Host = service name). */
  readonly meshRoutes: RouteTable<CompiledRoute>;
  /** Gateway edge table; empty when the config has no gateway. */
  readonly gatewayRoutes: RouteTable<CompiledRoute>;
  readonly gatewayListeners: readonly ListenerConfig[];
  readonly services: ReadonlyMap<string, ServiceInfo>;
  /** Inbound authorization per service (every declared service has one: its policy, or the mesh-wide default). */
  readonly authorization: ReadonlyMap<string, Authorizer>;
  /** The inbound policy (fault, rate limit) of this member's own service, when it has one. */
  readonly inbound: ReadonlyMap<string, InboundPolicy>;
  readonly clusters: ReadonlyMap<string, MutableCluster>;
};
