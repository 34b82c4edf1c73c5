// How a relayed request tells the connection it has ended: callbacks delivered once, in a microtask, also to a
// listener that comes late. The base of RelayExchange (one try) and RetryRelay (a request's tries).

/** How an exchange ended: an error (the downstream connection can only be closed), or whether it may carry another request. */
export type RelaySettled = (err: Error | undefined, keepAlive: boolean) => void;

// Deliveries wait in a process-wide queue drained by one microtask, instead of a closure queued per exchange: with the
// listener held in a field and the outcome in two, an exchange that ends makes no object to say so (bench/alloc.ts:
// pair A 35.4 -> 30.4, B 41.9 -> 36.9 objects per request). What settles while a queue drains waits for the next one.
let queue: Settling[] = [];
let spare: Settling[] = [];

function schedule(s: Settling): void {
  if (queue.push(s) === 1) queueMicrotask(drain);
}

function drain(): void {
  const q = queue;
  queue = spare;
  spare = q;
  let i = 0;
  try {
    for (; i < q.length; i++) deliverOf(q[i]!);
  } finally {
    // A listener threw (the error goes on as it would from its own microtask): the exchanges after it still hear.
    for (let k = i + 1; k < q.length; k++) schedule(q[k]!);
    q.length = 0;
  }
}

/** Settling's delivery, for the queue (kept off the class's public surface). */
let deliverOf: (s: Settling) => void;

export class Settling {
  // Callbacks, not a Promise: a promise, its catch and the awaiting async frame were measurable per request. One
  // listener is the common case (the connection); an array only from the second on.
  private first: RelaySettled | undefined;
  private more: RelaySettled[] | undefined;
  private decided = false;
  private outcomeErr: Error | undefined;
  private outcomeKeepAlive = false;

  static {
    deliverOf = (s) => s.deliver();
  }

  /** `f` hears once how the exchange ended (in a microtask, also when it already has). */
  whenSettled(f: RelaySettled): void {
    if (this.first === undefined && this.more === undefined) this.first = f;
    else (this.more ??= []).push(f);
    if (this.decided) schedule(this);
  }

  protected get hasSettled(): boolean {
    return this.decided;
  }

  /** Runs once, when the outcome is decided (before any listener hears it): for a subclass's own bookkeeping. */
  protected onSettled(): void {}

  /** The first call decides; later ones are ignored. */
  protected settleWith(err: Error | undefined, keepAlive: boolean): void {
    if (!this.decide(err, keepAlive)) return;
    if (this.first !== undefined || this.more !== undefined) schedule(this);
  }

  /**
   * As settleWith, for a caller that already runs in a microtask of its own (a RetryRelay hearing its try's end):
   * the listeners hear it now instead of one microtask later.
   */
  protected settleNow(err: Error | undefined, keepAlive: boolean): void {
    if (this.decide(err, keepAlive)) this.deliver();
  }

  private decide(err: Error | undefined, keepAlive: boolean): boolean {
    if (this.decided) return false;
    this.decided = true;
    this.outcomeErr = err;
    this.outcomeKeepAlive = keepAlive;
    this.onSettled();
    return true;
  }

  /** Each listener hears once: a queued delivery that finds none left (they heard already) does nothing. */
  private deliver(): void {
    const f = this.first;
    const more = this.more;
    this.first = undefined;
    this.more = undefined;
    if (f !== undefined) f(this.outcomeErr, this.outcomeKeepAlive);
    if (more !== undefined) for (const g of more) g(this.outcomeErr, this.outcomeKeepAlive);
  }
}
