// Unit tests for the cluster handler's circuit breaker: overflow refused at once (and reported as an attempt), the
// pending queue, slots released however an attempt ends, and breakers added or removed live by configure().
import { describe, expect, test } from "bun:test";
import type { AttemptEvent, CompiledPolicy, RequestContext } from "../types.ts";
import { UpstreamError } from "../types.ts";
import type { Forwarder } from "./snapshot.ts";
import { clusterHandler } from "./cluster-handler.ts";
import { createCluster } from "../upstream/cluster.ts";
import type { BreakerLimits } from "../upstream/circuit-breaker.ts";
import { endpoint } from "../../test/support/endpoints.ts";
import { makeContext } from "../../test/support/filter-context.ts";

const POLICY: CompiledPolicy = { loadBalancer: "round_robin", hashOn: undefined, timeoutMs: 1000, connectTimeoutMs: 100, retries: undefined };

function limits(l: Partial<BreakerLimits>): BreakerLimits {
  return { maxConnections: 1, maxPendingRequests: 0, maxRequests: 100, maxRetries: 3, ...l };
}

/** A forwarder whose attempts stay open until the test settles them, so "in flight" is whatever the test says. */
function heldForwarder() {
  const calls: { endpoint: string; signal: AbortSignal; ok(status?: number): void; fail(err: unknown): void }[] = [];
  const forward: Forwarder = (ep, _cluster, _req, opts) =>
    new Promise<Response>((resolve, reject) => {
      calls.push({ endpoint: ep.id, signal: opts.signal, ok: (status = 200) => resolve(new Response("up", { status })), fail: reject });
    });
  return { forward, calls };
}

function setup(breaker: Partial<BreakerLimits> | undefined) {
  const cluster = createCluster({ name: "echo", service: "echo", spiffeId: "spiffe://mesh/ns/default/svc/echo", loadBalancer: "round_robin" }, { breaker: breaker === undefined ? undefined : limits(breaker), outlier: undefined });
  cluster.setServiceEndpoints([endpoint("a"), endpoint("b")]);
  const fwd = heldForwarder();
  const handler = clusterHandler(cluster, fwd.forward, POLICY);
  const events: AttemptEvent[] = [];
  const observed = (signal?: AbortSignal): RequestContext => ({ ...makeContext(signal), observe: { attempt: (e) => void events.push(e) } });
  const send = (ctx: RequestContext = makeContext()) => handler(new Request("http://echo/"), ctx);
  return { cluster, handler, calls: fwd.calls, events, observed, send };
}

/** Lets queued promise continuations (a handed-over slot, the next attempt starting) run. */
const ticks = async (n = 5) => {
  for (let i = 0; i < n; i++) await Promise.resolve();
};

describe("clusterHandler: breaker overflow", () => {
  test("connections busy and no pending room: UpstreamError 'overflow' at once, nothing forwarded", async () => {
    const s = setup({ maxConnections: 1, maxPendingRequests: 0 });
    const first = s.send();
    expect(s.calls).toHaveLength(1);
    const ctx = makeContext();
    const began = performance.now();
    const err = await s.send(ctx).catch((e: unknown) => e);
    expect(performance.now() - began).toBeLessThan(50);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).kind).toBe("overflow");
    expect((err as UpstreamError).message).toMatch(/cluster echo: max pending reached/);
    expect(s.calls).toHaveLength(1);
    expect(ctx.lastCluster).toBe("echo"); // the 503 still names its destination
    expect(ctx.lastEndpoint).toBeUndefined();
    expect(s.cluster.breaker!.stats().overflows).toMatchObject({ connections: 1, pending: 1 });
    s.calls[0]!.ok();
    expect((await first).status).toBe(200);
  });

  test("maxRequests reached: 'requests' overflow", async () => {
    const s = setup({ maxConnections: 5, maxPendingRequests: 5, maxRequests: 1 });
    const first = s.send();
    const err = await s.send().catch((e: unknown) => e);
    expect((err as UpstreamError).kind).toBe("overflow");
    expect((err as UpstreamError).message).toMatch(/max requests reached/);
    s.calls[0]!.ok();
    await first;
  });

  test("an overflow is reported as an attempt with outcome 'overflow' when someone observes", async () => {
    const s = setup({ maxConnections: 1, maxPendingRequests: 0 });
    const first = s.send(s.observed());
    const ctx = s.observed();
    ctx.tried.add("a"); // as a retry would have it: the refused try is the next one
    await s.send(ctx).catch(() => undefined);
    const overflow = s.events.filter((e) => e.outcome === "overflow");
    expect(overflow).toHaveLength(1);
    expect(overflow[0]).toMatchObject({ requestId: "req-1", cluster: "echo", try: 2, status: undefined, durationMs: 0 });
    expect(overflow[0]!.endpoint.id).toBe(""); // no endpoint was picked
    s.calls[0]!.ok();
    await first;
    expect(s.events.map((e) => e.outcome)).toEqual(["overflow", "success"]);
  });
});

describe("clusterHandler: pending queue and release", () => {
  test("a queued request is admitted when a slot frees, and only then forwarded", async () => {
    const s = setup({ maxConnections: 1, maxPendingRequests: 1 });
    const first = s.send();
    const second = s.send();
    await ticks();
    expect(s.calls).toHaveLength(1);
    expect(s.cluster.breaker!.stats()).toMatchObject({ active: 1, pending: 1 });
    s.calls[0]!.ok();
    expect((await first).status).toBe(200);
    await ticks();
    expect(s.calls).toHaveLength(2);
    expect(s.cluster.breaker!.stats()).toMatchObject({ active: 1, pending: 0 });
    s.calls[1]!.ok(201);
    expect((await second).status).toBe(201);
    expect(s.cluster.breaker!.stats()).toMatchObject({ active: 0, pending: 0 });
  });

  test("the slot is released when forward throws", async () => {
    const s = setup({ maxConnections: 1, maxPendingRequests: 0 });
    const first = s.send();
    s.calls[0]!.fail(new UpstreamError("connect-failure", "refused"));
    expect(((await first.catch((e: unknown) => e)) as UpstreamError).kind).toBe("connect-failure");
    expect(s.cluster.breaker!.stats().active).toBe(0);
    const second = s.send();
    expect(s.calls).toHaveLength(2); // admitted, not an overflow
    s.calls[1]!.ok();
    expect((await second).status).toBe(200);
    expect(s.cluster.breaker!.stats().active).toBe(0);
  });

  test("the slot is released after a 5xx answer and after a failure to pick an endpoint", async () => {
    const s = setup({ maxConnections: 1, maxPendingRequests: 0 });
    const first = s.send();
    s.calls[0]!.ok(503);
    expect((await first).status).toBe(503);
    expect(s.cluster.breaker!.stats().active).toBe(0);
    s.cluster.setServiceEndpoints([]);
    const err = await s.send().catch((e: unknown) => e);
    expect((err as UpstreamError).kind).toBe("no-healthy-endpoint");
    expect(s.cluster.breaker!.stats().active).toBe(0);
  });

  test("a queued request whose caller gives up leaves the queue, holds nothing and is never forwarded", async () => {
    const s = setup({ maxConnections: 1, maxPendingRequests: 1 });
    const first = s.send();
    const caller = new AbortController();
    const queued = s.send(makeContext(caller.signal));
    await ticks();
    const reason = new Error("client went away");
    caller.abort(reason);
    expect(await queued.catch((e: unknown) => e)).toBe(reason);
    expect(s.cluster.breaker!.stats()).toMatchObject({ active: 1, pending: 0 });
    s.calls[0]!.ok();
    await first;
    await ticks();
    expect(s.calls).toHaveLength(1);
    expect(s.cluster.breaker!.stats().active).toBe(0);
  });

  test("every attempt is paired on the balancer (the registry's drain count returns to 0)", async () => {
    const s = setup({ maxConnections: 2, maxPendingRequests: 2 });
    const all = [s.send(), s.send(), s.send()];
    await ticks();
    expect(s.cluster.inFlight()).toBe(2);
    s.calls[0]!.ok();
    s.calls[1]!.fail(new UpstreamError("reset", "reset"));
    await ticks(10);
    s.calls[2]!.ok();
    await Promise.allSettled(all);
    expect(s.cluster.inFlight()).toBe(0);
  });
});

describe("clusterHandler: breaker reconfigured live", () => {
  test("configure() removing the breaker: requests pass without it, even while the old one is full", async () => {
    const s = setup({ maxConnections: 1, maxPendingRequests: 0 });
    const first = s.send();
    s.cluster.configure({ breaker: undefined, outlier: undefined });
    expect(s.cluster.breaker).toBeUndefined();
    const second = s.send();
    const third = s.send();
    expect(s.calls).toHaveLength(3);
    for (const c of s.calls) c.ok();
    // The first request releases into the breaker it was admitted by: no error although that breaker is gone.
    expect((await Promise.all([first, second, third])).map((r) => r.status)).toEqual([200, 200, 200]);
  });

  test("configure() adding a breaker to a cluster whose handler is already built: applied to the next request", async () => {
    const s = setup(undefined);
    const first = s.send();
    s.cluster.configure({ breaker: limits({ maxConnections: 1, maxPendingRequests: 0 }), outlier: undefined });
    const second = s.send();
    expect(s.calls).toHaveLength(2); // admitted by the new breaker: the first was never counted in it
    const err = await s.send().catch((e: unknown) => e);
    expect((err as UpstreamError).kind).toBe("overflow");
    for (const c of s.calls) c.ok();
    await Promise.all([first, second]);
  });

  test("configure() raising maxConnections admits a queued request at once", async () => {
    const s = setup({ maxConnections: 1, maxPendingRequests: 1 });
    const first = s.send();
    const second = s.send();
    await ticks();
    expect(s.calls).toHaveLength(1);
    const breaker = s.cluster.breaker;
    s.cluster.configure({ breaker: limits({ maxConnections: 2, maxPendingRequests: 1 }), outlier: undefined });
    expect(s.cluster.breaker).toBe(breaker); // the same breaker, reconfigured: its counts stay
    await ticks();
    expect(s.calls).toHaveLength(2);
    for (const c of s.calls) c.ok();
    await Promise.all([first, second]);
    expect(s.cluster.breaker!.stats().active).toBe(0);
  });
});
