// Unit tests for fault injection: aborts (status and reset), delays (and their cut-short on abort), the dice with an
// injected random, header and caller conditions, and which faults compileFault drops because they can never apply.
import { describe, expect, test } from "bun:test";
import type { FaultPolicyConfig } from "../config/schema.ts";
import type { Handler, RequestContext } from "../types.ts";
import { compileFault } from "../build/resilience.ts";
import type { CompiledFault } from "./fault.ts";
import { isResetResponse } from "../http/errors.ts";
import { faultFilter } from "./fault.ts";
import { chunkedStream, makeContext } from "../../test/support/filter-context.ts";

const MESH = { trustDomain: "mesh", namespace: "default" };
const spiffe = (service: string) => `spiffe://mesh/ns/default/svc/${service}`;

/** A fault as an inbound sidecar of "api" (instance i-1) compiles it; fails the test if it compiles to nothing. */
function inbound(f: FaultPolicyConfig, instance = "i-1"): CompiledFault {
  const c = compileFault(f, { ...MESH, self: "api", instance, side: "inbound" });
  if (c === undefined) throw new Error("fault compiled to nothing");
  return c;
}

/** The app (or upstream) behind the filter: counts calls so a test can tell whether the fault let the request through. */
function upstream() {
  const seen: { ctx: RequestContext; at: number }[] = [];
  const handler: Handler = async (_req, ctx) => {
    seen.push({ ctx, at: performance.now() });
    return new Response("from upstream");
  };
  return { handler, seen };
}

/** A random() that hands out `values` in order and fails the test if asked for more (each roll is accounted for). */
function dice(...values: number[]): () => number {
  return () => {
    const v = values.shift();
    if (v === undefined) throw new Error("random() called more often than expected");
    return v;
  };
}

describe("faultFilter: abort", () => {
  test("100% abort answers the configured status with x-mesh-error fault-abort and never calls next", async () => {
    const up = upstream();
    const ctx = makeContext();
    const res = await faultFilter(inbound({ abort: { status: 418 } }))(up.handler)(new Request("http://api/x"), ctx);
    expect(res.status).toBe(418);
    expect(res.headers.get("x-mesh-error")).toBe("fault-abort");
    expect(res.headers.get("x-request-id")).toBe("req-1");
    expect(((await res.json()) as { error: string }).error).toBe("fault-abort");
    expect(isResetResponse(res)).toBe(false);
    expect(up.seen).toHaveLength(0);
    expect(ctx.fault).toBe("abort");
  });

  test("an abort without a status answers 503", async () => {
    const res = await faultFilter(inbound({ abort: {} }))(upstream().handler)(new Request("http://api/"), makeContext());
    expect(res.status).toBe(503);
  });

  test("an aborted request's body is cancelled: the upstream will never read it", async () => {
    let cancelled = false;
    const body = chunkedStream(["a", "b"], () => (cancelled = true));
    const req = new Request("http://api/", { method: "POST", body, duplex: "half" } as RequestInit);
    await faultFilter(inbound({ abort: { status: 500 } }))(upstream().handler)(req, makeContext());
    expect(cancelled).toBe(true);
  });

  test("reset: a response the listener recognises as 'drop the connection'; next is not called", async () => {
    const up = upstream();
    const ctx = makeContext();
    const res = await faultFilter(inbound({ abort: { reset: true } }))(up.handler)(new Request("http://api/"), ctx);
    expect(isResetResponse(res)).toBe(true);
    expect(res.headers.get("x-mesh-error")).toBe("fault-reset");
    expect(up.seen).toHaveLength(0);
    expect(ctx.fault).toBe("abort");
  });
});

describe("faultFilter: delay", () => {
  test("a delay waits before the request goes on, and is noted as 'delay'", async () => {
    const up = upstream();
    const ctx = makeContext();
    const began = performance.now();
    const res = await faultFilter(inbound({ delay: { fixed: "30ms" } }))(up.handler)(new Request("http://api/"), ctx);
    expect(await res.text()).toBe("from upstream");
    expect(up.seen).toHaveLength(1);
    // Timers may fire a hair early on some platforms; 25 of 30 ms still proves the request waited.
    expect(up.seen[0]!.at - began).toBeGreaterThanOrEqual(25);
    expect(ctx.fault).toBe("delay");
  });

  test("delay and abort both rolled: waits, then aborts; noted as 'delay+abort'", async () => {
    const up = upstream();
    const ctx = makeContext();
    const began = performance.now();
    const res = await faultFilter(inbound({ delay: { fixed: "30ms" }, abort: { status: 502 } }))(up.handler)(new Request("http://api/"), ctx);
    expect(performance.now() - began).toBeGreaterThanOrEqual(25);
    expect(res.status).toBe(502);
    expect(up.seen).toHaveLength(0);
    expect(ctx.fault).toBe("delay+abort");
  });

  test("the caller giving up cuts a delay short (nothing to wait for)", async () => {
    const ac = new AbortController();
    const up = upstream();
    const ctx = makeContext(ac.signal);
    setTimeout(() => ac.abort(new Error("gone")), 10);
    const began = performance.now();
    await faultFilter(inbound({ delay: { fixed: "10s" } }))(up.handler)(new Request("http://api/"), ctx);
    expect(performance.now() - began).toBeLessThan(1000);
    // The request goes on with its aborted signal; what is downstream of the fault decides how to fail.
    expect(up.seen).toHaveLength(1);
    expect(ctx.fault).toBe("delay");
  });

  test("an already aborted signal does not wait at all", async () => {
    const ac = new AbortController();
    ac.abort();
    const began = performance.now();
    await faultFilter(inbound({ delay: { fixed: "10s" } }))(upstream().handler)(new Request("http://api/"), makeContext(ac.signal));
    expect(performance.now() - began).toBeLessThan(1000);
  });
});

describe("faultFilter: percentages", () => {
  test("abort percent: a roll below the rate aborts, a roll at or above it passes", async () => {
    const f = inbound({ abort: { status: 503, percent: 25 } });
    const run = async (roll: number) => {
      const up = upstream();
      const ctx = makeContext();
      const res = await faultFilter(f, { random: dice(roll) })(up.handler)(new Request("http://api/"), ctx);
      return { status: res.status, reached: up.seen.length, fault: ctx.fault };
    };
    expect(await run(0.24)).toEqual({ status: 503, reached: 0, fault: "abort" });
    expect(await run(0.25)).toEqual({ status: 200, reached: 1, fault: undefined });
    expect(await run(0.9)).toEqual({ status: 200, reached: 1, fault: undefined });
  });

  test("delay and abort roll independently, delay first", async () => {
    // "0ms": the delay's timing is not under test here, only which faults the rolls select.
    const f = inbound({ delay: { fixed: "0ms", percent: 50 }, abort: { status: 503, percent: 10 } });
    const run = async (delayRoll: number, abortRoll: number) => {
      const ctx = makeContext();
      const res = await faultFilter(f, { random: dice(delayRoll, abortRoll) })(upstream().handler)(new Request("http://api/"), ctx);
      return [res.status, ctx.fault];
    };
    expect(await run(0.4, 0.5)).toEqual([200, "delay"]);
    expect(await run(0.6, 0.05)).toEqual([503, "abort"]);
    expect(await run(0.4, 0.05)).toEqual([503, "delay+abort"]);
    expect(await run(0.6, 0.5)).toEqual([200, undefined]);
  });

  test("over many requests the shares follow the percentages", async () => {
    // A deterministic sweep of rolls over [0, 1): exactly percent% of them fall below the rate.
    let i = 0;
    const sweep = () => ((i++ * 37) % 100) / 100;
    const handler = faultFilter(inbound({ abort: { status: 503, percent: 30 } }), { random: sweep })(upstream().handler);
    let aborted = 0;
    for (let n = 0; n < 100; n++) if ((await handler(new Request("http://api/"), makeContext())).status === 503) aborted++;
    expect(aborted).toBe(30);
  });

  test("percent 0 never fires and rolls no dice", async () => {
    const handler = faultFilter(inbound({ delay: { fixed: "10s", percent: 0 }, abort: { status: 503, percent: 0 } }), { random: dice() })(upstream().handler);
    const ctx = makeContext();
    expect((await handler(new Request("http://api/"), ctx)).status).toBe(200);
    expect(ctx.fault).toBeUndefined();
  });
});

describe("faultFilter: conditions", () => {
  test("header conditions gate the fault: all must hold", async () => {
    const f = inbound({ abort: { status: 503 }, when: { headers: [{ name: "X-Fault", exact: "on" }, { name: "x-user", prefix: "test-" }] } });
    const handler = faultFilter(f)(upstream().handler);
    const status = async (headers: Record<string, string>) => (await handler(new Request("http://api/", { headers }), makeContext())).status;
    expect(await status({ "x-fault": "on", "x-user": "test-1" })).toBe(503);
    expect(await status({ "x-fault": "on", "x-user": "prod-1" })).toBe(200);
    expect(await status({ "x-fault": "off", "x-user": "test-1" })).toBe(200);
    expect(await status({})).toBe(200);
  });

  test("a request the conditions exclude is passed on untouched and rolls no dice", async () => {
    const f = inbound({ abort: { status: 503 }, when: { headers: [{ name: "x-fault", present: true }] } });
    const ctx = makeContext();
    const res = await faultFilter(f, { random: dice() })(upstream().handler)(new Request("http://api/"), ctx);
    expect(res.status).toBe(200);
    expect(ctx.fault).toBeUndefined();
  });

  test("inbound `from` matches the verified caller's SPIFFE id, by service name or full id", async () => {
    const f = inbound({ abort: { status: 503 }, when: { from: ["web", "spiffe://other/ns/x/svc/batch"] } });
    const handler = faultFilter(f)(upstream().handler);
    const status = async (who: Partial<RequestContext>) => (await handler(new Request("http://api/"), { ...makeContext(), ...who })).status;
    expect(await status({ peer: spiffe("web") })).toBe(503);
    expect(await status({ peer: "spiffe://other/ns/x/svc/batch" })).toBe(503);
    expect(await status({ peer: spiffe("admin") })).toBe(200);
    // Only a verified identity counts: no peer, a bare name, or a matching client address never select the fault.
    expect(await status({})).toBe(200);
    expect(await status({ peer: "web" })).toBe(200);
    expect(await status({ clientIp: "web" })).toBe(200);
    expect(await status({ clientIp: spiffe("web") })).toBe(200);
  });
});

describe("compileFault: faults that can never apply compile to nothing", () => {
  const abort = { abort: { status: 503 } };

  test("caller side: `from` must name the member applying the route (self)", () => {
    const opts = (self: string | undefined) => ({ ...MESH, self, instance: undefined, side: "caller" as const });
    expect(compileFault({ ...abort, when: { from: ["web"] } }, opts("api"))).toBeUndefined();
    expect(compileFault({ ...abort, when: { from: ["web"] } }, opts(undefined))).toBeUndefined(); // a gateway has no service name
    const byName = compileFault({ ...abort, when: { from: ["web"] } }, opts("web"));
    const byId = compileFault({ ...abort, when: { from: [spiffe("web")] } }, opts("web"));
    expect(byName).toBeDefined();
    expect(byId).toBeDefined();
    // Settled at compile time: the request path then applies it to every caller (ctx.peer plays no part outbound).
    expect(byName!.from).toBeUndefined();
  });

  test("inbound side: `instances` must include this instance", () => {
    const opts = (instance: string | undefined) => ({ ...MESH, self: "api", instance, side: "inbound" as const });
    expect(compileFault({ ...abort, when: { instances: ["i-1", "i-3"] } }, opts("i-2"))).toBeUndefined();
    expect(compileFault({ ...abort, when: { instances: ["i-1"] } }, opts(undefined))).toBeUndefined();
    expect(compileFault({ ...abort, when: { instances: ["i-1", "i-3"] } }, opts("i-3"))).toBeDefined();
  });

  test("inbound `from` is kept for the request path, as SPIFFE ids; self plays no part", () => {
    const c = compileFault({ ...abort, when: { from: ["web"] } }, { ...MESH, self: "api", instance: undefined, side: "inbound" });
    expect(c).toBeDefined();
    expect([...c!.from!]).toEqual([spiffe("web")]);
  });
});
