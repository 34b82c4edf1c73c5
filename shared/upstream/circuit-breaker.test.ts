// Unit tests for the circuit breaker: each threshold, the FIFO pending queue, aborts while waiting, live limits, retries.
// Pure logic: no timers, no sockets; waiters are plain promises.
import { describe, expect, test } from "bun:test";
import { createCircuitBreaker, type BreakerLimits } from "./circuit-breaker.ts";

const limits = (over: Partial<BreakerLimits> = {}): BreakerLimits => ({
  maxConnections: Infinity,
  maxPendingRequests: Infinity,
  maxRequests: Infinity,
  maxRetries: Infinity,
  ...over,
});
const live = () => new AbortController().signal;
/** Lets promise callbacks run. */
const settle = () => new Promise((r) => setTimeout(r, 0));

/** Queues one attempt and records when it is admitted or refused. */
function waitFor(admitted: unknown, log: string[], name: string): void {
  expect(admitted).toBeInstanceOf(Promise);
  (admitted as Promise<undefined>).then(
    () => log.push(`${name} in`),
    (e: unknown) => log.push(`${name} ${String(e)}`),
  );
}

describe("circuit breaker", () => {
  test("unlimited admits synchronously", () => {
    const b = createCircuitBreaker(limits());
    for (let i = 0; i < 1000; i++) expect(b.admit(live())).toBeUndefined();
    expect(b.stats().active).toBe(1000);
  });

  test("at maxConnections attempts wait; when the queue is full they are refused as pending", () => {
    const b = createCircuitBreaker(limits({ maxConnections: 2, maxPendingRequests: 1 }));
    expect(b.admit(live())).toBeUndefined();
    expect(b.admit(live())).toBeUndefined();
    waitFor(b.admit(live()), [], "c");
    expect(b.admit(live())).toBe("pending");
    expect(b.stats()).toEqual({ active: 2, pending: 1, activeRetries: 0, overflows: { connections: 2, pending: 1, requests: 0, retries: 0 } });
  });

  test("no pending queue: a busy breaker refuses at once", () => {
    const b = createCircuitBreaker(limits({ maxConnections: 1, maxPendingRequests: 0 }));
    expect(b.admit(live())).toBeUndefined();
    expect(b.admit(live())).toBe("pending");
  });

  test("maxRequests counts active and waiting attempts", () => {
    const b = createCircuitBreaker(limits({ maxConnections: 1, maxRequests: 2 }));
    expect(b.admit(live())).toBeUndefined();
    waitFor(b.admit(live()), [], "b");
    expect(b.admit(live())).toBe("requests");
    expect(b.stats().overflows).toEqual({ connections: 1, pending: 0, requests: 1, retries: 0 });
  });

  test("release hands the slot to waiters in FIFO order", async () => {
    const b = createCircuitBreaker(limits({ maxConnections: 1 }));
    const log: string[] = [];
    expect(b.admit(live())).toBeUndefined();
    for (const name of ["a", "b", "c"]) waitFor(b.admit(live()), log, name);
    b.release();
    await settle();
    expect(log).toEqual(["a in"]);
    expect(b.stats()).toMatchObject({ active: 1, pending: 2 });
    b.release();
    b.release();
    await settle();
    expect(log).toEqual(["a in", "b in", "c in"]);
    b.release();
    expect(b.stats()).toMatchObject({ active: 0, pending: 0 });
  });

  test("an abort while waiting removes the waiter, rejects with the reason and leaks no slot", async () => {
    const b = createCircuitBreaker(limits({ maxConnections: 1, maxPendingRequests: 2 }));
    const log: string[] = [];
    expect(b.admit(live())).toBeUndefined();
    const ctl = new AbortController();
    waitFor(b.admit(ctl.signal), log, "a");
    waitFor(b.admit(live()), log, "b");
    ctl.abort("gone");
    expect(b.stats()).toMatchObject({ active: 1, pending: 1 });
    waitFor(b.admit(live()), log, "c"); // the aborted waiter's place in the queue is free again
    b.release();
    await settle();
    expect(log).toEqual(["a gone", "b in"]);
    b.release();
    b.release();
    await settle();
    expect(log).toEqual(["a gone", "b in", "c in"]);
    expect(b.stats()).toMatchObject({ active: 0, pending: 0 });
  });

  test("an already aborted signal that would wait is rejected without queueing", async () => {
    const b = createCircuitBreaker(limits({ maxConnections: 1 }));
    expect(b.admit(live())).toBeUndefined();
    const ctl = new AbortController();
    ctl.abort("early");
    const log: string[] = [];
    waitFor(b.admit(ctl.signal), log, "a");
    await settle();
    expect(log).toEqual(["a early"]);
    expect(b.stats()).toMatchObject({ active: 1, pending: 0 });
  });

  test("an abort after admission changes nothing: the caller holds the slot until release", async () => {
    const b = createCircuitBreaker(limits({ maxConnections: 1 }));
    const ctl = new AbortController();
    expect(b.admit(live())).toBeUndefined();
    const waiting = b.admit(ctl.signal);
    b.release();
    ctl.abort("late");
    expect(await waiting).toBeUndefined();
    expect(b.stats()).toMatchObject({ active: 1, pending: 0 });
  });

  test("configure: raising maxConnections admits waiters, lowering it waits for releases", async () => {
    const b = createCircuitBreaker(limits({ maxConnections: 1 }));
    const log: string[] = [];
    expect(b.admit(live())).toBeUndefined();
    for (const name of ["a", "b", "c"]) waitFor(b.admit(live()), log, name);
    b.configure(limits({ maxConnections: 3 }));
    await settle();
    expect(log).toEqual(["a in", "b in"]);
    expect(b.stats()).toMatchObject({ active: 3, pending: 1 });
    b.configure(limits({ maxConnections: 2 }));
    b.release(); // 2 active: still at the lower limit
    await settle();
    expect(log).toEqual(["a in", "b in"]);
    b.release();
    await settle();
    expect(log).toEqual(["a in", "b in", "c in"]);
    b.configure(limits({ maxConnections: 2, maxRequests: 2 }));
    expect(b.admit(live())).toBe("requests");
  });

  test("retries: at most maxRetries at once, overflows counted, unpaired calls ignored", () => {
    const b = createCircuitBreaker(limits({ maxRetries: 2 }));
    expect(b.tryRetry()).toBe(true);
    expect(b.tryRetry()).toBe(true);
    expect(b.tryRetry()).toBe(false);
    expect(b.stats()).toMatchObject({ activeRetries: 2, overflows: { connections: 0, pending: 0, requests: 0, retries: 1 } });
    b.retryDone();
    expect(b.tryRetry()).toBe(true);
    b.retryDone();
    b.retryDone();
    b.retryDone();
    expect(b.stats().activeRetries).toBe(0);
    b.configure(limits({ maxRetries: 0 }));
    expect(b.tryRetry()).toBe(false);
  });

  test("an unpaired release does not mint a slot", () => {
    const b = createCircuitBreaker(limits({ maxConnections: 1, maxPendingRequests: 0 }));
    b.release();
    expect(b.admit(live())).toBeUndefined();
    expect(b.admit(live())).toBe("pending");
    expect(b.stats().active).toBe(1);
  });
});

describe("circuit breaker: admitting at once only (the relay)", () => {
  test("admitNow takes a slot while there is room and refuses without counting an overflow; release frees it", () => {
    const b = createCircuitBreaker(limits({ maxConnections: 2, maxRequests: 5 }));
    expect(b.hasRoom()).toBe(true);
    expect([b.admitNow(), b.admitNow(), b.admitNow()]).toEqual([true, true, false]);
    expect(b.hasRoom()).toBe(false);
    expect(b.stats()).toEqual({ active: 2, pending: 0, activeRetries: 0, overflows: { connections: 0, pending: 0, requests: 0, retries: 0 } });
    b.release();
    expect(b.hasRoom()).toBe(true);
    expect(b.admitNow()).toBe(true);
  });

  test("a queued waiter leaves no room for admitNow, and maxRequests counts waiters too", async () => {
    const b = createCircuitBreaker(limits({ maxConnections: 1, maxRequests: 3 }));
    expect(b.admitNow()).toBe(true);
    const log: string[] = [];
    waitFor(b.admit(live()), log, "w");
    expect(b.hasRoom()).toBe(false);
    b.release(); // the slot goes to the waiter, not to whoever asks next
    await settle();
    expect(log).toEqual(["w in"]);
    expect(b.admitNow()).toBe(false);
    const tight = createCircuitBreaker(limits({ maxConnections: 5, maxRequests: 1 }));
    expect([tight.admitNow(), tight.admitNow()]).toEqual([true, false]);
  });
});
