// Unit tests for the retry filter with a fake cluster-backed handler: which failures are retried, fresh endpoints
// per try, body replay (and the oversized no-retry path), giving up, abort and per-try timeouts.
import { describe, expect, test } from "bun:test";
import type { CompiledRetry, Endpoint, Handler, RetryOn } from "../types.ts";
import { UpstreamError } from "../types.ts";
import { createRoundRobin } from "../upstream/round-robin.ts";
import { endpoint } from "../../test/support/endpoints.ts";
import { retryFilter } from "./retry.ts";
import { createRetryBudget } from "../upstream/retry-budget.ts";
import { createCircuitBreaker } from "../upstream/circuit-breaker.ts";
import { chunkedStream, delay, makeContext, never } from "../../test/support/filter-context.ts";

function policy(p: Partial<Omit<CompiledRetry, "on">> & { on?: RetryOn[] } = {}): CompiledRetry {
  return {
    attempts: p.attempts ?? 3,
    on: new Set(p.on ?? ["connect-failure", "reset"]),
    perTryTimeoutMs: p.perTryTimeoutMs,
    backoffMs: p.backoffMs ?? 0,
    allowNonIdempotent: p.allowNonIdempotent ?? false,
    maxReplayBytes: p.maxReplayBytes ?? 1024,
    budget: undefined,
  };
}

type Call = { endpoint: string; method: string; body: string; at: number };

/** The innermost handler as the proxy builds it: pick(ctx.tried), record the endpoint, then "forward". */
function fakeUpstream(behave: (ep: Endpoint, n: number) => Promise<Response> | Response) {
  const lb = createRoundRobin();
  lb.update([endpoint("a"), endpoint("b"), endpoint("c")]);
  const calls: Call[] = [];
  const handler: Handler = async (req, ctx) => {
    const ep = lb.pick(ctx.tried);
    if (!ep) throw new UpstreamError("no-healthy-endpoint", "none");
    ctx.tried.add(ep.id);
    ctx.lastEndpoint = ep;
    const body = req.body ? await req.text() : "";
    calls.push({ endpoint: ep.id, method: req.method, body, at: performance.now() });
    return behave(ep, calls.length);
  };
  return { handler, calls };
}

function constructible(method: string): boolean {
  try {
    new Request("http://s/", { method });
    return true;
  } catch {
    return false;
  }
}

const refused = () => {
  throw new UpstreamError("connect-failure", "refused");
};

describe("retryFilter: what is retried", () => {
  test("connect-failure is retried on a fresh endpoint each time; attempts and tried are tracked", async () => {
    const up = fakeUpstream((_ep, n) => (n < 3 ? refused() : new Response("ok")));
    const ctx = makeContext();
    const res = await retryFilter(policy())(up.handler)(new Request("http://s/x"), ctx);
    expect(await res.text()).toBe("ok");
    expect(up.calls.map((c) => c.endpoint)).toEqual(["a", "b", "c"]);
    expect([...ctx.tried]).toEqual(["a", "b", "c"]);
    expect(ctx.attempts).toBe(3);
    expect(ctx.lastEndpoint?.id).toBe("c");
  });

  test("reset is retried only when listed", async () => {
    const reset = () => {
      throw new UpstreamError("reset", "reset");
    };
    const up = fakeUpstream((_e, n) => (n === 1 ? reset() : new Response("ok")));
    expect((await retryFilter(policy({ on: ["reset"] }))(up.handler)(new Request("http://s/"), makeContext())).status).toBe(200);
    expect(up.calls.length).toBe(2);
    const up2 = fakeUpstream((_e, n) => (n === 1 ? reset() : new Response("ok")));
    const err = await retryFilter(policy({ on: ["connect-failure"] }))(up2.handler)(new Request("http://s/"), makeContext()).catch((e: unknown) => e);
    expect((err as UpstreamError).kind).toBe("reset");
    expect(up2.calls.length).toBe(1);
  });

  test("other errors (not UpstreamError, or other kinds) are not retried", async () => {
    const bug = new TypeError("bug");
    const up = fakeUpstream(() => {
      throw bug;
    });
    const err = await retryFilter(policy())(up.handler)(new Request("http://s/"), makeContext()).catch((e: unknown) => e);
    expect(err).toBe(bug);
    expect(up.calls.length).toBe(1);
    const up2 = fakeUpstream(() => {
      throw new UpstreamError("identity-mismatch", "wrong spiffe id");
    });
    await retryFilter(policy())(up2.handler)(new Request("http://s/"), makeContext()).catch(() => undefined);
    expect(up2.calls.length).toBe(1);
  });

  test("a 'timeout' error from further in is not retried without our per-try timeout", async () => {
    const up = fakeUpstream(() => {
      throw new UpstreamError("timeout", "inner");
    });
    const err = await retryFilter(policy({ on: ["connect-failure", "reset", "5xx"] }))(up.handler)(new Request("http://s/"), makeContext()).catch((e: unknown) => e);
    expect((err as UpstreamError).kind).toBe("timeout");
    expect(up.calls.length).toBe(1);
  });

  test("statuses: explicit numbers, 5xx and gateway-error", async () => {
    const run = async (on: RetryOn[], status: number) => {
      const up = fakeUpstream((_e, n) => new Response(null, { status: n === 1 ? status : 200 }));
      const res = await retryFilter(policy({ on }))(up.handler)(new Request("http://s/"), makeContext());
      return { tries: up.calls.length, status: res.status };
    };
    expect(await run([503], 503)).toEqual({ tries: 2, status: 200 });
    expect(await run([503], 502)).toEqual({ tries: 1, status: 502 });
    expect(await run(["5xx"], 500)).toEqual({ tries: 2, status: 200 });
    expect(await run(["5xx"], 599)).toEqual({ tries: 2, status: 200 });
    expect(await run(["gateway-error"], 504)).toEqual({ tries: 2, status: 200 });
    expect(await run(["gateway-error"], 500)).toEqual({ tries: 1, status: 500 });
    expect(await run(["connect-failure"], 503)).toEqual({ tries: 1, status: 503 });
    expect(await run(["5xx"], 404)).toEqual({ tries: 1, status: 404 });
  });

  test("a retried response's body is cancelled before the next try", async () => {
    const cancelled: number[] = [];
    const up = fakeUpstream((_e, n) => {
      if (n === 1) return new Response(new ReadableStream({ cancel: () => void cancelled.push(n) }), { status: 503 });
      expect(cancelled).toEqual([1]); // already released when try 2 starts
      return new Response("fine");
    });
    const res = await retryFilter(policy({ on: [503] }))(up.handler)(new Request("http://s/"), makeContext());
    expect(await res.text()).toBe("fine");
    expect(cancelled).toEqual([1]);
  });
});

describe("retryFilter: methods and bodies", () => {
  test("POST is not retried unless allowNonIdempotent", async () => {
    const up = fakeUpstream(refused);
    const err = await retryFilter(policy())(up.handler)(new Request("http://s/", { method: "POST", body: "x" }), makeContext()).catch((e: unknown) => e);
    expect((err as UpstreamError).kind).toBe("connect-failure");
    expect(up.calls.length).toBe(1);
    expect(up.calls[0]?.body).toBe("x");

    const up2 = fakeUpstream((_e, n) => (n < 2 ? refused() : new Response("ok")));
    const res = await retryFilter(policy({ allowNonIdempotent: true }))(up2.handler)(new Request("http://s/", { method: "POST", body: "x" }), makeContext());
    expect(res.status).toBe(200);
    expect(up2.calls.map((c) => [c.method, c.body])).toEqual([["POST", "x"], ["POST", "x"]]);
  });

  test("every idempotent method is retried", async () => {
    // Deno follows the Fetch spec and refuses to construct a TRACE Request, so there the list is one shorter.
    for (const method of ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"].filter(constructible)) {
      const up = fakeUpstream((_e, n) => (n < 2 ? refused() : new Response(null)));
      await retryFilter(policy())(up.handler)(new Request("http://s/", { method }), makeContext());
      expect([method, up.calls.length]).toEqual([method, 2]);
    }
  });

  test("a buffered body is replayed identically on every try (stream of unknown length)", async () => {
    const up = fakeUpstream((_e, n) => (n < 3 ? refused() : new Response("ok")));
    const body = chunkedStream(["hel", "lo ", "wor", "ld"]);
    const req = new Request("http://s/put", { method: "PUT", body, duplex: "half" } as RequestInit);
    await retryFilter(policy({ maxReplayBytes: 64 }))(up.handler)(req, makeContext());
    expect(up.calls.map((c) => c.body)).toEqual(["hello world", "hello world", "hello world"]);
  });

  test("binary body bytes survive replay exactly", async () => {
    const bytes = new Uint8Array(300).map((_v, i) => (i * 7) % 256);
    const seen: Uint8Array[] = [];
    const lb = createRoundRobin();
    lb.update([endpoint("a"), endpoint("b")]);
    const handler: Handler = async (req, ctx) => {
      const ep = lb.pick(ctx.tried)!;
      ctx.tried.add(ep.id);
      seen.push(new Uint8Array(await req.arrayBuffer()));
      if (seen.length === 1) throw new UpstreamError("reset", "reset");
      return new Response(null);
    };
    await retryFilter(policy())(handler)(new Request("http://s/", { method: "PUT", body: bytes }), makeContext());
    expect(seen.length).toBe(2);
    for (const s of seen) expect(s).toEqual(bytes);
  });

  test("oversized body by content-length: sent once, intact", async () => {
    const up = fakeUpstream(refused);
    const big = "x".repeat(100);
    const req = new Request("http://s/", { method: "PUT", body: big, headers: { "content-length": "100" } });
    const err = await retryFilter(policy({ maxReplayBytes: 10 }))(up.handler)(req, makeContext()).catch((e: unknown) => e);
    expect((err as UpstreamError).kind).toBe("connect-failure");
    expect(up.calls.map((c) => c.body)).toEqual([big]);
  });

  test("oversized body of unknown length: already-read chunks + the rest are delivered once, in order", async () => {
    const up = fakeUpstream(refused);
    const chunks = ["aaaa", "bbbb", "cccc", "dddd", "eeee"];
    const req = new Request("http://s/", { method: "PUT", body: chunkedStream(chunks), duplex: "half" } as RequestInit);
    const ctx = makeContext();
    await retryFilter(policy({ maxReplayBytes: 6 }))(up.handler)(req, ctx).catch(() => undefined);
    expect(up.calls.map((c) => c.body)).toEqual([chunks.join("")]);
    expect(ctx.attempts).toBe(1);
  });

  test("a body exactly at the limit is still replayable", async () => {
    const up = fakeUpstream((_e, n) => (n < 2 ? refused() : new Response(null)));
    const req = new Request("http://s/", { method: "PUT", body: chunkedStream(["12345", "67890"]), duplex: "half" } as RequestInit);
    await retryFilter(policy({ maxReplayBytes: 10 }))(up.handler)(req, makeContext());
    expect(up.calls.map((c) => c.body)).toEqual(["1234567890", "1234567890"]);
  });

  test("maxReplayBytes 0: requests without a body are still retried, any body is not", async () => {
    const up = fakeUpstream((_e, n) => (n < 2 ? refused() : new Response(null)));
    await retryFilter(policy({ maxReplayBytes: 0 }))(up.handler)(new Request("http://s/"), makeContext());
    expect(up.calls.length).toBe(2);
    const up2 = fakeUpstream(refused);
    await retryFilter(policy({ maxReplayBytes: 0 }))(up2.handler)(new Request("http://s/", { method: "PUT", body: "z" }), makeContext()).catch(() => undefined);
    expect(up2.calls.map((c) => c.body)).toEqual(["z"]);
  });
});

describe("retryFilter: giving up, abort, timing", () => {
  test("gives up after `attempts` and rethrows the last error", async () => {
    let n = 0;
    const handler: Handler = async (_r, ctx) => {
      n++;
      ctx.tried.add(`e${n}`);
      throw new UpstreamError("connect-failure", `refused #${n}`);
    };
    const ctx = makeContext();
    const err = await retryFilter(policy({ attempts: 4 }))(handler)(new Request("http://s/"), ctx).catch((e: unknown) => e);
    expect((err as Error).message).toBe("refused #4");
    expect(n).toBe(4);
    expect(ctx.attempts).toBe(4);
  });

  test("gives up after `attempts` and returns the last response with its body intact", async () => {
    const up = fakeUpstream((_e, n) => new Response(`unavailable ${n}`, { status: 503 }));
    const res = await retryFilter(policy({ attempts: 2, on: ["gateway-error"] }))(up.handler)(new Request("http://s/"), makeContext());
    expect(res.status).toBe(503);
    expect(await res.text()).toBe("unavailable 2");
    expect(up.calls.length).toBe(2);
  });

  test("attempts 1 means a single try", async () => {
    const up = fakeUpstream(refused);
    await retryFilter(policy({ attempts: 1 }))(up.handler)(new Request("http://s/"), makeContext()).catch(() => undefined);
    expect(up.calls.length).toBe(1);
  });

  test("no retry once the request's signal is aborted", async () => {
    const downstream = new AbortController();
    const up = fakeUpstream(() => {
      downstream.abort();
      throw new UpstreamError("connect-failure", "refused");
    });
    const err = await retryFilter(policy())(up.handler)(new Request("http://s/"), makeContext(downstream.signal)).catch((e: unknown) => e);
    expect((err as UpstreamError).kind).toBe("connect-failure");
    expect(up.calls.length).toBe(1);
  });

  test("abort during backoff stops retrying and returns the last response intact", async () => {
    const downstream = new AbortController();
    const up = fakeUpstream(() => new Response("busy", { status: 503 }));
    const p = retryFilter(policy({ on: [503], backoffMs: 10_000 }))(up.handler)(new Request("http://s/"), makeContext(downstream.signal));
    await delay(20);
    downstream.abort();
    const started = performance.now();
    const res = await p;
    expect(performance.now() - started).toBeLessThan(1000);
    expect(res.status).toBe(503);
    expect(await res.text()).toBe("busy");
    expect(up.calls.length).toBe(1);
  });

  test("backoff: exponential with full jitter (random injected)", async () => {
    const up = fakeUpstream(refused);
    await retryFilter(policy({ attempts: 3, backoffMs: 30 }), { random: () => 0.999 })(up.handler)(new Request("http://s/"), makeContext()).catch(() => undefined);
    const [t1, t2, t3] = up.calls.map((c) => c.at) as [number, number, number];
    expect(t2 - t1).toBeGreaterThanOrEqual(25); // ~30ms * 2^0
    expect(t3 - t2).toBeGreaterThanOrEqual(55); // ~30ms * 2^1
    const fast = fakeUpstream(refused);
    const started = performance.now();
    await retryFilter(policy({ attempts: 3, backoffMs: 10_000 }), { random: () => 0 })(fast.handler)(new Request("http://s/"), makeContext()).catch(() => undefined);
    expect(performance.now() - started).toBeLessThan(1000); // jitter 0 -> no wait
    expect(fast.calls.length).toBe(3);
  });

  test("perTryTimeout: a hung try is abandoned (its signal aborted) and the next endpoint answers", async () => {
    const signals: AbortSignal[] = [];
    const lb = createRoundRobin();
    lb.update([endpoint("slow"), endpoint("fast")]);
    const handler: Handler = async (_r, ctx) => {
      const ep = lb.pick(ctx.tried)!;
      ctx.tried.add(ep.id);
      signals.push(ctx.signal);
      return ep.id === "slow" ? never() : new Response("fast");
    };
    const ctx = makeContext();
    const res = await retryFilter(policy({ perTryTimeoutMs: 30 }))(handler)(new Request("http://s/"), ctx);
    expect(await res.text()).toBe("fast");
    expect(signals.length).toBe(2);
    expect(signals[0]?.aborted).toBe(true);
    expect(signals[1]?.aborted).toBe(false);
    expect(ctx.signal.aborted).toBe(false);
    expect(ctx.attempts).toBe(2);
  });

  test("perTryTimeout on every try: the last per-try timeout is thrown", async () => {
    const handler: Handler = () => never();
    const err = await retryFilter(policy({ attempts: 2, perTryTimeoutMs: 15 }))(handler)(new Request("http://s/"), makeContext()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).kind).toBe("timeout");
  });

  test("perTryTimeout also bounds a non-retryable (POST) single try", async () => {
    const err = await retryFilter(policy({ perTryTimeoutMs: 15 }))(() => never())(new Request("http://s/", { method: "POST", body: "b" }), makeContext()).catch((e: unknown) => e);
    expect((err as UpstreamError).kind).toBe("timeout");
  });
});

describe("retryFilter: budget and breaker", () => {
  const fiveHundred = () => new Response("no", { status: 503 });

  test("a retry budget bounds retries to its share of requests (plus the floor), then the last response stands", async () => {
    const up = fakeUpstream(fiveHundred);
    const now = 1000;
    const budget = createRetryBudget({ ratio: 0.2, minPerSecond: 0, ttlMs: 10_000 }, () => now);
    const f = retryFilter(policy({ attempts: 2, on: ["5xx"] }), { budget })(up.handler);
    let statuses = 0;
    for (let i = 0; i < 100; i++) statuses += (await f(new Request("http://s/"), makeContext())).status === 503 ? 1 : 0;
    expect(statuses).toBe(100);
    // 100 first tries; retries may add 20 % of them.
    expect(up.calls.length).toBe(100 + 20);
    expect(budget.stats().exhausted).toBe(80);
  });

  test("the breaker's maxRetries bounds retries in flight; each retry's slot is given back when it ends", async () => {
    const breaker = createCircuitBreaker({ maxConnections: Infinity, maxPendingRequests: Infinity, maxRequests: Infinity, maxRetries: 1 });
    let release: (() => void) | undefined;
    const gate = new Promise<void>((r) => (release = r));
    // First tries fail fast; the retry of request 1 hangs until released, holding the one retry slot.
    const up = fakeUpstream(async (_ep, n) => (n === 2 ? (await gate, new Response("late")) : fiveHundred()));
    const f = retryFilter(policy({ attempts: 2, on: ["5xx"] }), { breaker: () => breaker })(up.handler);
    const first = f(new Request("http://s/1"), makeContext());
    await delay(5);
    const second = await f(new Request("http://s/2"), makeContext());
    expect(second.status).toBe(503); // its retry was refused: one retry in flight already
    expect(breaker.stats().overflows.retries).toBe(1);
    release!();
    expect(await (await first).text()).toBe("late");
    expect(breaker.stats().activeRetries).toBe(0);
  });
});
