// Envoy's per-cluster circuit breaker thresholds: connections, pending requests, requests and retries in flight.
// Refuses at once rather than letting load pile onto a struggling upstream; only the pending queue ever waits.

/** Infinity = unlimited. */
export type BreakerLimits = {
  readonly maxConnections: number;
  readonly maxPendingRequests: number;
  readonly maxRequests: number;
  readonly maxRetries: number;
};

export type OverflowKind = "connections" | "pending" | "requests" | "retries";

export type CircuitBreaker = {
  /** Live: counts in flight stay; raising maxConnections admits waiters at once, lowering it refuses no one in flight. */
  configure(l: BreakerLimits): void;
  /**
   * Admit one upstream attempt (one connection per active attempt, as with HTTP/1.1).
   * - undefined: admitted; the caller must call release() exactly once afterwards.
   * - an OverflowKind: refused at once ("requests" when active + waiting >= maxRequests, "pending" when the queue is full).
   * - a Promise: queued (FIFO) because active attempts are at maxConnections. It resolves to undefined once a slot is
   *   handed over (the caller then holds it and must release it, even if the signal aborts later), or rejects with the
   *   signal's reason if it aborts first; the waiter then leaves the queue and holds nothing.
   * An already aborted signal that would have to wait is rejected the same way.
   */
  admit(signal: AbortSignal): undefined | OverflowKind | Promise<undefined>;
  /** Whether admit() would admit at once now (no refusal, no queue). Pure: counts nothing. */
  hasRoom(): boolean;
  /**
   * Admits at once when hasRoom(), else refuses without counting an overflow: for the relay, which hands a request
   * it can't place at once to the full path, whose admit() then queues or refuses it (and counts that once).
   */
  admitNow(): boolean;
  /** O(1); hands the slot straight to the first waiter, if any and the limit allows. */
  release(): void;
  /** A retry wants to start: true if active retries < maxRetries (then call retryDone() once when it ends); false counts a "retries" overflow. */
  tryRetry(): boolean;
  retryDone(): void;
  /** overflows.connections counts attempts that found every connection busy (queued or refused), like Envoy's cx_overflow. */
  stats(): { active: number; pending: number; activeRetries: number; overflows: Readonly<Record<OverflowKind, number>> };
};

type Waiter = {
  readonly resolve: (v: undefined) => void;
  readonly reject: (reason: unknown) => void;
  readonly signal: AbortSignal;
  readonly onAbort: () => void;
  prev: Waiter | undefined;
  next: Waiter | undefined;
};

export function createCircuitBreaker(l: BreakerLimits): CircuitBreaker {
  let limits = l;
  let active = 0;
  let activeRetries = 0;
  // Doubly linked FIFO: an aborted waiter unlinks itself in O(1) from anywhere in the queue.
  let head: Waiter | undefined;
  let tail: Waiter | undefined;
  let pending = 0;
  const overflows: Record<OverflowKind, number> = { connections: 0, pending: 0, requests: 0, retries: 0 };

  function unlink(w: Waiter): void {
    if (w.prev === undefined) head = w.next;
    else w.prev.next = w.next;
    if (w.next === undefined) tail = w.prev;
    else w.next.prev = w.prev;
    w.prev = w.next = undefined;
    pending--;
  }

  /** Moves waiters into free slots, oldest first. */
  function pump(): void {
    while (head !== undefined && active < limits.maxConnections) {
      const w = head;
      unlink(w);
      w.signal.removeEventListener("abort", w.onAbort);
      active++;
      w.resolve(undefined);
    }
  }

  function enqueue(signal: AbortSignal): Promise<undefined> {
    return new Promise<undefined>((resolve, reject) => {
      const w: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          unlink(w);
          reject(signal.reason);
        },
        prev: tail,
        next: undefined,
      };
      if (tail === undefined) head = w;
      else tail.next = w;
      tail = w;
      pending++;
      signal.addEventListener("abort", w.onAbort, { once: true });
    });
  }

  return {
    configure(next) {
      limits = next;
      pump();
    },
    admit(signal) {
      if (active + pending >= limits.maxRequests) {
        overflows.requests++;
        return "requests";
      }
      if (active < limits.maxConnections) {
        active++;
        return undefined;
      }
      overflows.connections++;
      if (pending >= limits.maxPendingRequests) {
        overflows.pending++;
        return "pending";
      }
      if (signal.aborted) return Promise.reject(signal.reason);
      return enqueue(signal);
    },
    hasRoom() {
      return active + pending < limits.maxRequests && active < limits.maxConnections;
    },
    admitNow() {
      if (active + pending >= limits.maxRequests || active >= limits.maxConnections) return false;
      active++;
      return true;
    },
    release() {
      if (active === 0) return; // an unpaired release must not mint a slot
      active--;
      pump();
    },
    tryRetry() {
      if (activeRetries < limits.maxRetries) {
        activeRetries++;
        return true;
      }
      overflows.retries++;
      return false;
    },
    retryDone() {
      if (activeRetries > 0) activeRetries--;
    },
    stats() {
      return { active, pending, activeRetries, overflows: { ...overflows } };
    },
  };
}
