// A relayed request's tries, one after another (outbound fast path, routes with retries, body-less requests): each
// try is a RelayExchange on a connection of its own; a try the policy retries hands the downstream to the next one.
import { UpstreamError, type UpstreamErrorKind } from "../../shared/types.ts";
import { responseForError } from "../../shared/http/errors.ts";
import type { RelayRetry } from "../../shared/proxy/relay-retry.ts";
import { writeResponse } from "./http1-response-writer.ts";
import type { RequestHead } from "./http1-head.ts";
import type { RelayExchange, RelayIo, RelayLike } from "./relay-exchange.ts";
import { Settling } from "./settling.ts";

/** Asked by try n's exchange before its outcome is relayed: true = try n + 1 takes over. */
export type RetryAsk = (status: number, failure: UpstreamErrorKind | undefined, perTry: boolean) => boolean;

// Per-try timeouts this short get a timer of their own; longer ones are checked by the listener's sweep (≤ 1 s late).
const TIMER_BELOW_MS = 2000;

export type RetryRelaySpec<E> = {
  readonly policy: RelayRetry;
  readonly req: RequestHead;
  readonly io: RelayIo;
  readonly requestId: string;
  /** performance.now() of the route timeout, which covers every try and the waits between them. */
  readonly deadline: number;
  /** The policy's per-try timeout, if any (each try's exchange enforces it; short ones get a timer here). */
  readonly tryTimeoutMs: number | undefined;
  /** The endpoint for the next try (the balancer, with the tried ones excluded), or undefined: no retry then. */
  readonly pick: () => E | undefined;
  readonly startTry: (n: number, endpoint: E, ask: RetryAsk) => RelayExchange;
  /** The route timeout ran out between two tries: the mesh answers 504 (told so it can report the request). */
  readonly timedOut: (status: number, cause: string | undefined) => void;
  /** The request has ended, however it ended (what a try holds until then is given back here). */
  readonly ended?: () => void;
};

export class RetryRelay<E> extends Settling implements RelayLike {
  private current: RelayExchange;
  private waiting: ReturnType<typeof setTimeout> | undefined;
  private tryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly spec: RetryRelaySpec<E>, first: E) {
    super();
    this.current = this.begin(1, first);
  }

  private begin(n: number, endpoint: E): RelayExchange {
    const x = this.spec.startTry(n, endpoint, (status, failure, perTry) => this.ask(n, status, failure, perTry));
    // Only the try that answers settles: one that handed off never does. Its end already comes in a microtask.
    x.whenSettled((err, keepAlive) => {
      this.clearTryTimer();
      this.settleNow(err, keepAlive);
    });
    const t = this.spec.tryTimeoutMs;
    if (t !== undefined && t < TIMER_BELOW_MS) this.tryTimer = setTimeout(() => x.tryTimedOut(), t);
    return x;
  }

  private clearTryTimer(): void {
    if (this.tryTimer === undefined) return;
    clearTimeout(this.tryTimer);
    this.tryTimer = undefined;
  }

  /** The current try has its outcome (a response head, or a failure): its per-try timer is done either way. */
  private ask(n: number, status: number, failure: UpstreamErrorKind | undefined, perTry: boolean): boolean {
    this.clearTryTimer();
    if (this.hasSettled) return false;
    // The policy first: most answers are not retried, and a pick has effects (round robin moves on). A retry the
    // policy allows but no endpoint can take has used a budget token; the balancer has none only when it is empty.
    if (!this.spec.policy.again(n, status, failure, perTry)) return false;
    const next = this.spec.pick();
    if (next === undefined) return false;
    this.waiting = setTimeout(() => {
      this.waiting = undefined;
      this.current = this.begin(n + 1, next);
    }, this.spec.policy.backoffMs(n + 1));
    return true;
  }

  protected override onSettled(): void {
    this.spec.ended?.();
  }

  get done(): boolean {
    return this.current.done;
  }

  feed(buf: Uint8Array, from: number): number {
    return this.current.feed(buf, from);
  }

  discard(): void {
    this.current.discard();
  }

  fail(err: Error): void {
    if (this.waiting === undefined) return this.current.fail(err);
    clearTimeout(this.waiting);
    this.waiting = undefined;
    this.settleWith(err, false);
  }

  checkDeadline(now: number): void {
    if (this.waiting === undefined) return this.current.checkDeadline(now);
    if (now <= this.spec.deadline) return;
    clearTimeout(this.waiting);
    this.waiting = undefined;
    const { io, req } = this.spec;
    const res = responseForError(new UpstreamError("timeout", "no response within the route timeout"), this.spec.requestId);
    this.spec.timedOut(res.status, res.headers.get("x-mesh-error") ?? undefined);
    io.responding();
    writeResponse(io.writer, res, { method: req.method, version: req.version, keepAlive: io.keepAlive }).then(
      (keepAlive) => this.settleWith(undefined, keepAlive),
      (err: unknown) => this.settleWith(err instanceof Error ? err : new Error(String(err)), false),
    );
  }
}
