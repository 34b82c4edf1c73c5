// Unit tests for the whole-request timeout filter: fires even when next ignores its signal, clears on completion,
// aborts the signal next sees, and discards a response that arrives too late.
import { describe, expect, test } from "bun:test";
import type { Handler, RequestContext } from "../types.ts";
import { UpstreamError } from "../types.ts";
import { endpoint } from "../../test/support/endpoints.ts";
import { timeoutFilter } from "./timeout.ts";
import { delay, makeContext, never } from "../../test/support/filter-context.ts";

const req = () => new Request("http://echo.mesh/x");

describe("timeoutFilter", () => {
  test("rejects with UpstreamError timeout even if next ignores the signal, and aborts next's signal", async () => {
    let seen: AbortSignal | undefined;
    const handler = timeoutFilter(30)((_r, ctx) => {
      seen = ctx.signal;
      return never();
    });
    const started = performance.now();
    const err = await handler(req(), makeContext()).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).kind).toBe("timeout");
    expect(elapsed).toBeGreaterThanOrEqual(25);
    expect(elapsed).toBeLessThan(1000);
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBe(err);
  });

  test("passes the response through and clears the timer on completion", async () => {
    let seen: AbortSignal | undefined;
    const ctx = makeContext();
    const res = await timeoutFilter(40)(async (_r, c) => {
      seen = c.signal;
      return new Response("ok", { status: 201 });
    })(req(), ctx);
    expect(res.status).toBe(201);
    expect(await res.text()).toBe("ok");
    await delay(80);
    expect(seen?.aborted).toBe(false); // the timer did not fire after completion
    expect(ctx.signal.aborted).toBe(false);
  });

  test("errors from next pass through unchanged", async () => {
    const boom = new UpstreamError("connect-failure", "refused");
    const err = await timeoutFilter(1000)(async () => {
      throw boom;
    })(req(), makeContext()).catch((e: unknown) => e);
    expect(err).toBe(boom);
  });

  test("downstream abort reaches next's signal", async () => {
    const downstream = new AbortController();
    let seen: AbortSignal | undefined;
    const p = timeoutFilter(5000)((_r, c) => {
      seen = c.signal;
      return new Promise<Response>((_res, rej) => c.signal.addEventListener("abort", () => rej(c.signal.reason)));
    })(req(), makeContext(downstream.signal));
    downstream.abort(new Error("client went away"));
    const err = await p.catch((e: unknown) => e);
    expect((err as Error).message).toBe("client went away");
    expect(seen?.aborted).toBe(true);
  });

  test("a response arriving after the deadline is cancelled", async () => {
    let cancelled = false;
    const late: Handler = async () => {
      await delay(60);
      const body = new ReadableStream({ cancel: () => void (cancelled = true) });
      return new Response(body);
    };
    const err = await timeoutFilter(10)(late)(req(), makeContext()).catch((e: unknown) => e);
    expect((err as UpstreamError).kind).toBe("timeout");
    await delay(100);
    expect(cancelled).toBe(true);
  });

  test("attempts and lastEndpoint written inside are visible on the request's context; signal is not replaced", async () => {
    const ctx: RequestContext = makeContext();
    const original = ctx.signal;
    await timeoutFilter(1000)(async (_r, c) => {
      c.attempts++;
      c.lastEndpoint = endpoint("a");
      c.tried.add("a");
      expect(c.requestId).toBe("req-1");
      return new Response(null);
    })(req(), ctx);
    expect(ctx.attempts).toBe(1);
    expect(ctx.lastEndpoint?.id).toBe("a");
    expect([...ctx.tried]).toEqual(["a"]);
    expect(ctx.signal).toBe(original);
  });

  test("rejects a non-positive timeout at build time", () => {
    expect(() => timeoutFilter(0)).toThrow();
    expect(() => timeoutFilter(Number.NaN)).toThrow();
  });
});

describe("timeoutFilter with a request-wide cancel (the listeners' fast path)", () => {
  const withCancel = (): RequestContext => {
    const controller = new AbortController();
    return { ...makeContext(), signal: controller.signal, cancel: (r: unknown) => controller.abort(r) };
  };

  test("fires, aborts the request's own signal with the timeout error", async () => {
    const ctx = withCancel();
    let seen: AbortSignal | undefined;
    const err = await timeoutFilter(20)((_r, c) => {
      seen = c.signal;
      return never();
    })(req(), ctx).catch((e: unknown) => e);
    expect((err as UpstreamError).kind).toBe("timeout");
    expect(seen).toBe(ctx.signal);
    expect(ctx.signal.aborted).toBe(true);
    expect(ctx.signal.reason).toBe(err);
  });

  test("a response in time passes through and nothing is aborted", async () => {
    const ctx = withCancel();
    const res = await timeoutFilter(200)(async () => {
      await delay(5);
      return new Response("ok");
    })(req(), ctx);
    expect(await res.text()).toBe("ok");
    await delay(250);
    expect(ctx.signal.aborted).toBe(false);
  });
});
