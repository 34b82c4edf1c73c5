// The outbound fast path's runtime part: a request head the core's planner accepts goes to an endpoint the cluster's
// balancer picks, over a pooled connection, with the outcome reported as the full path's cluster handler would.
import type { Observation } from "../../shared/telemetry/observe.ts";
import type { Endpoint, Outcome, UpstreamErrorKind } from "../../shared/types.ts";
import { emitOutbound, type OutboundPlan, type OutboundPlanner } from "../../shared/proxy/outbound-relay-plan.ts";
import { ONE_TRY, relayRetry, type RelayRetry } from "../../shared/proxy/relay-retry.ts";
import type { FastRetry } from "../../shared/proxy/snapshot.ts";
import { RelayExchange, type RelayEmit, type RelayIo, type RelayLike } from "./relay-exchange.ts";
import { RetryRelay, type RetryAsk, type RetryRelaySpec } from "./retry-relay.ts";
import type { RelayStarter } from "./inbound-relay.ts";
import type { RequestHead } from "./http1-head.ts";
import type { UpstreamPool } from "./upstream-pool.ts";
import type { CircuitBreaker } from "../../shared/upstream/circuit-breaker.ts";

export type OutboundRelay = {
  readonly planner: OutboundPlanner;
  readonly pool: UpstreamPool;
  readonly observe: Observation;
  /** Names the listener in request events ("outbound", "gateway/<name>"). */
  readonly listener: string;
};

const NONE: ReadonlySet<string> = new Set();
// Route timeouts this short get a timer of their own; longer ones are checked by the listener's sweep (≤ 1 s late).
const TIMER_BELOW_MS = 2000;

const outcomeOf = (k: UpstreamErrorKind): Outcome => (k === "timeout" ? "timeout" : k === "reset" ? "reset" : "connect-failure");

/**
 * Try `n` of `plan` to `endpoint`, reported as the cluster handler reports an attempt (balancer, outlier detection,
 * attempt event). `final.isFinal(n)` says whether this try's outcome is the request's: only then the request event goes out.
 */
function startTry(r: OutboundRelay, plan: OutboundPlan, head: RequestHead, io: RelayIo, n: number, endpoint: Endpoint, final: TryOutcome, ask?: RetryAsk, tryTimeoutMs?: number): RelayExchange {
  const { cluster, service, timeoutMs, connectTimeoutMs } = plan.fast;
  const observe = r.observe;
  cluster.balancer.start(endpoint);
  const link = r.pool.take(endpoint, service.mtls === "disable" ? undefined : service.spiffeId, connectTimeoutMs);
  const emit: RelayEmit = (status, cause, bytesOut, failure) => {
    // Status 0: the caller gave up first, which usually means the upstream was slow.
    const outcome: Outcome = status === 0 ? "timeout" : failure !== undefined ? outcomeOf(failure) : status >= 500 ? "http-5xx" : "success";
    cluster.balancer.report(endpoint, outcome, failure === undefined && status > 0 ? status : undefined);
    const now = performance.now();
    if (observe.wantsAttempts) {
      observe.attempt({ requestId: plan.requestId, cluster: cluster.name, endpoint, try: n, status: failure === undefined && status > 0 ? status : undefined, outcome: failure === "identity-mismatch" ? "identity-mismatch" : outcome, durationMs: now - plan.startedAt, trace: plan.trace });
    }
    if (status === 0 || !observe.wantsRequests || !final.isFinal(n)) return;
    const f = head.framing;
    emitOutbound(observe, r.listener, plan, { method: head.method, target: head.target, status, cause, endpoint: endpoint.id, headAt: now, bytesIn: f.kind === "length" ? f.length : undefined, bytesOut, attempts: n });
  };
  return new RelayExchange({ link, plan, req: head, io, deadline: plan.startedAt + timeoutMs, release: r.pool.release, emit, retry: ask, tryTimeoutMs });
}

/** Says whether a try's outcome is the request's: only then its request event goes out. */
type TryOutcome = { isFinal(n: number): boolean };
const ALWAYS: TryOutcome = { isFinal: () => true };

/**
 * A body-less request's tries on a route with retries, each to an endpoint not tried yet where there is one. One
 * object per request: most requests end with their first try, so what a retry needs is made only for a retry.
 */
class OutboundTries implements RetryRelaySpec<Endpoint> {
  readonly req: RequestHead;
  readonly requestId: string;
  readonly deadline: number;
  /** Ids of the endpoints tried, the last tried last (the balancer's fallback avoids the one that just failed). */
  private tried: string[];
  private made = 0;
  /** The last try that handed the downstream to the next one: its outcome, and every earlier one's, isn't final. */
  private handedOff = 0;

  constructor(
    private readonly r: OutboundRelay,
    private readonly plan: OutboundPlan,
    readonly io: RelayIo,
    readonly policy: RelayRetry,
    readonly tryTimeoutMs: number | undefined,
    head: RequestHead,
    first: Endpoint,
  ) {
    this.req = head;
    this.requestId = plan.requestId;
    this.deadline = plan.startedAt + plan.fast.timeoutMs;
    this.tried = [first.id];
  }

  /** The breaker whose retry count this request holds (its latest retry's; at most one at a time, as tries are sequential). */
  private retryHeld: CircuitBreaker | undefined;

  pick(): Endpoint | undefined {
    // The full path's order: budget (in policy.again), then the breaker's retry threshold, read per retry (a reload
    // may add one). The try before this retry has ended, so its retry no longer counts.
    this.endRetry();
    const breaker = this.plan.fast.cluster.breaker;
    if (breaker !== undefined) {
      if (!breaker.tryRetry()) return undefined;
      this.retryHeld = breaker;
    }
    return this.plan.fast.cluster.balancer.pick(new Set(this.tried), this.plan.hash);
  }

  /** The request has ended (RetryRelay): the last retry's count ends with it. */
  ended(): void {
    this.endRetry();
  }

  /** Ends the count of the retry in flight, if any (when the next retry starts, and when the request ends). */
  private endRetry(): void {
    this.retryHeld?.retryDone();
    this.retryHeld = undefined;
  }

  startTry(n: number, endpoint: Endpoint, ask: RetryAsk): RelayExchange {
    if (n > 1) {
      const i = this.tried.indexOf(endpoint.id);
      if (i >= 0) this.tried.splice(i, 1);
      this.tried.push(endpoint.id);
    }
    this.made = n;
    const answer: RetryAsk = (status, failure, perTry) => {
      const yes = ask(status, failure, perTry);
      if (yes) this.handedOff = n;
      return yes;
    };
    return startTry(this.r, this.plan, this.req, this.io, n, endpoint, this, answer, this.tryTimeoutMs);
  }

  /** Whether try `n`'s outcome is the request's (startTry's `final`). */
  isFinal(n: number): boolean {
    return n > this.handedOff;
  }

  timedOut(status: number, cause: string | undefined): void {
    const { r, plan, req } = this;
    if (r.observe.wantsRequests) emitOutbound(r.observe, r.listener, plan, { method: req.method, target: req.target, status, cause, endpoint: undefined, headAt: performance.now(), bytesIn: undefined, bytesOut: undefined, attempts: this.made });
  }
}

function retrying(r: OutboundRelay, plan: OutboundPlan, head: RequestHead, io: RelayIo, first: Endpoint, retry: FastRetry): RelayLike {
  const tryTimeoutMs = retry.policy.perTryTimeoutMs;
  const repeated = relayRetry(retry, head.method);
  if (repeated === undefined && tryTimeoutMs === undefined) return startTry(r, plan, head, io, 1, first, ALWAYS);
  // One try with a per-try timeout still goes through RetryRelay, which keeps its timer.
  return new RetryRelay<Endpoint>(new OutboundTries(r, plan, io, repeated ?? ONE_TRY, tryTimeoutMs, head, first), first);
}

/** One per downstream connection (`clientIp` is its address), or one shared where every caller is local. */
export function outboundRelayStarter(r: OutboundRelay, clientIp: string | undefined): RelayStarter {
  return {
    start(head, io) {
      const plan = r.planner(head, clientIp);
      if (plan === undefined) return undefined;
      const cluster = plan.fast.cluster;
      const endpoint = cluster.balancer.pick(NONE, plan.hash);
      if (endpoint === undefined) return undefined; // the full path answers 503 no-healthy-endpoint
      // The planner saw room on this breaker in this same turn. One slot covers all of a request's tries (they run one
      // after another, as the full path's take a slot each), released when the request ends.
      const breaker = cluster.breaker;
      if (breaker !== undefined && !breaker.admitNow()) return undefined;
      const retry = plan.fast.retry;
      const x = retry === undefined ? startTry(r, plan, head, io, 1, endpoint, ALWAYS) : retrying(r, plan, head, io, endpoint, retry);
      if (breaker !== undefined) x.whenSettled(() => breaker.release());
      if (plan.fast.timeoutMs < TIMER_BELOW_MS) {
        const t = setTimeout(() => x.checkDeadline(Number.POSITIVE_INFINITY), plan.fast.timeoutMs);
        x.whenSettled(() => clearTimeout(t));
      }
      return x;
    },
    idle() {},
    close() {},
  };
}
