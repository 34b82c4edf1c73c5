// How a relayed request tells the connection it has ended: callbacks delivered once, in a microtask, also to a
// listener that comes late. The base of RelayExchange (one try) and RetryRelay (a request's tries).

/** How an exchange ended: an error (the downstream connection can only be closed), or whether it may carry another request. */
export type RelaySettled = (err: Error | undefined, keepAlive: boolean) => void;

export class Settling {
  // Callbacks, not a Promise: a promise, its catch and the awaiting async frame were measurable per request, and
  // every listener still hears the end in a microtask, as a promise's would.
  private listeners: RelaySettled[] = [];
  private outcome: { err: Error | undefined; keepAlive: boolean } | undefined;

  /** `f` hears once how the exchange ended (in a microtask, also when it already has). */
  whenSettled(f: RelaySettled): void {
    this.listeners.push(f);
    if (this.outcome !== undefined) queueMicrotask(() => this.deliver());
  }

  protected get hasSettled(): boolean {
    return this.outcome !== undefined;
  }

  /** Runs once, when the outcome is decided (before any listener hears it): for a subclass's own bookkeeping. */
  protected onSettled(): void {}

  /** The first call decides; later ones are ignored. */
  protected settleWith(err: Error | undefined, keepAlive: boolean): void {
    if (this.outcome !== undefined) return;
    this.outcome = { err, keepAlive };
    this.onSettled();
    if (this.listeners.length > 0) queueMicrotask(() => this.deliver());
  }

  /**
   * As settleWith, for a caller that already runs in a microtask of its own (a RetryRelay hearing its try's end):
   * the listeners hear it now instead of one microtask later.
   */
  protected settleNow(err: Error | undefined, keepAlive: boolean): void {
    if (this.outcome !== undefined) return;
    this.outcome = { err, keepAlive };
    this.onSettled();
    this.deliver();
  }

  private deliver(): void {
    const o = this.outcome!;
    const ls = this.listeners;
    this.listeners = [];
    for (const f of ls) f(o.err, o.keepAlive);
  }
}
