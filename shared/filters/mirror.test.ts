// Unit tests for traffic mirroring: the sampling rate, the "-shadow" Host, bodies copied within the bound (and left
// alone beyond it), and that the mirror's failures, hangs and signal never reach the primary request.
import { describe, expect, test } from "bun:test";
import type { Handler, RequestContext } from "../types.ts";
import { mirrorFilter, shadowHost, type MirrorOptions } from "./mirror.ts";
import { chunkedStream, delay, makeContext, never } from "../../test/support/filter-context.ts";

type Seen = { req: Request; ctx: RequestContext; body: Uint8Array };

/** A handler that records what it got, body included (read in full, as an upstream would). */
function recorder(answer: () => Promise<Response> | Response = () => new Response("primary")) {
  const seen: Seen[] = [];
  const handler: Handler = async (req, ctx) => {
    seen.push({ req, ctx, body: new Uint8Array(await req.arrayBuffer()) });
    return answer();
  };
  return { handler, seen };
}

/** The mirror filter in front of a recording primary; the mirror's sends are recorded too. */
function mirrored(o: Partial<MirrorOptions> = {}) {
  const shadow = recorder(() => new Response("shadow"));
  const primary = recorder();
  const counts: string[] = [];
  const handler = mirrorFilter({ rate: 1, maxBodyBytes: 1024, send: shadow.handler, timeoutMs: 1000, count: (r) => counts.push(r), ...o })(primary.handler);
  return { handler, shadow, primary, counts };
}

/** Lets fire-and-forget work (the mirror's send) run to completion. */
const settle = () => delay(5);

const bytes = (n: number) => new Uint8Array(n).map((_v, i) => (i * 31 + 7) % 256);

describe("mirrorFilter: which requests", () => {
  test("rate: a roll below it mirrors, at or above it does not", async () => {
    const rolls = [0.29, 0.3, 0.8, 0.1];
    const m = mirrored({ rate: 0.3, random: () => rolls.shift()! });
    for (let i = 0; i < 4; i++) await m.handler(new Request("http://api/"), makeContext());
    await settle();
    expect(m.shadow.seen).toHaveLength(2);
    expect(m.primary.seen).toHaveLength(4);
    expect(m.counts).toEqual(["sent", "sent"]); // requests not picked are not counted at all
  });

  test("rate 1 mirrors every request without rolling; rate 0 none", async () => {
    const all = mirrored({ rate: 1, random: () => { throw new Error("no roll expected"); } });
    await all.handler(new Request("http://api/"), makeContext());
    const none = mirrored({ rate: 0, random: () => 0 });
    await none.handler(new Request("http://api/"), makeContext());
    await settle();
    expect(all.shadow.seen).toHaveLength(1);
    expect(none.shadow.seen).toHaveLength(0);
    expect(none.primary.seen).toHaveLength(1);
  });
});

describe("mirrorFilter: the copy", () => {
  test("GET: the mirror sees Host '<host>-shadow'; the primary gets the very same request, untouched", async () => {
    const m = mirrored();
    const req = new Request("http://api.mesh/path?q=1", { headers: { host: "api", "x-user": "u1" } });
    const res = await m.handler(req, makeContext());
    await settle();
    expect(await res.text()).toBe("primary");
    expect(m.primary.seen[0]!.req).toBe(req);
    expect(req.headers.get("host")).toBe("api");
    const copy = m.shadow.seen[0]!.req;
    expect(copy.headers.get("host")).toBe("api-shadow");
    expect(copy.headers.get("x-user")).toBe("u1");
    expect(copy.method).toBe("GET");
    expect(copy.url).toBe("http://api.mesh/path?q=1");
    expect(m.counts).toEqual(["sent"]);
  });

  test("without a Host header the URL's host (with port) gets the suffix", async () => {
    const m = mirrored();
    await m.handler(new Request("http://api.mesh:8080/"), makeContext());
    await settle();
    expect(m.shadow.seen[0]!.req.headers.get("host")).toBe("api.mesh-shadow:8080");
  });

  test("a body within the bound is mirrored byte for byte, and the primary still gets all of it", async () => {
    const m = mirrored({ maxBodyBytes: 300 });
    const body = bytes(300);
    const req = new Request("http://api/upload", { method: "POST", body, headers: { "content-length": "300", "content-type": "application/octet-stream" } });
    const res = await m.handler(req, makeContext());
    await settle();
    expect(res.status).toBe(200);
    expect(m.shadow.seen[0]!.body).toEqual(body);
    expect(m.primary.seen[0]!.body).toEqual(body);
    expect(m.primary.seen[0]!.req.method).toBe("POST");
    expect(m.primary.seen[0]!.req.url).toBe("http://api/upload");
    expect(m.primary.seen[0]!.req.headers.get("content-type")).toBe("application/octet-stream");
    expect(m.shadow.seen[0]!.req.headers.get("host")).toBe("api-shadow");
    expect(m.counts).toEqual(["sent"]);
  });

  test("a body over the bound is not mirrored (counted body-too-large); the primary gets it intact", async () => {
    const m = mirrored({ maxBodyBytes: 299 });
    const body = bytes(300);
    await m.handler(new Request("http://api/", { method: "POST", body, headers: { "content-length": "300" } }), makeContext());
    await settle();
    expect(m.shadow.seen).toHaveLength(0);
    expect(m.counts).toEqual(["body-too-large"]);
    expect(m.primary.seen[0]!.body).toEqual(body);
  });

  test("a body without a declared length is not mirrored; the primary still streams all of it", async () => {
    const m = mirrored({ maxBodyBytes: 1 << 20 });
    const req = new Request("http://api/", { method: "PUT", body: chunkedStream(["hel", "lo ", "world"]), duplex: "half" } as RequestInit);
    await m.handler(req, makeContext());
    await settle();
    expect(m.shadow.seen).toHaveLength(0);
    expect(m.counts).toEqual(["body-too-large"]);
    expect(new TextDecoder().decode(m.primary.seen[0]!.body)).toBe("hello world");
  });
});

describe("mirrorFilter: isolation from the primary", () => {
  test("a mirror that rejects changes nothing for the primary", async () => {
    const primary = recorder();
    const handler = mirrorFilter({ rate: 1, maxBodyBytes: 1024, timeoutMs: 1000, send: async () => { throw new Error("mirror down"); } })(primary.handler);
    const res = await handler(new Request("http://api/", { method: "POST", body: "abc", headers: { "content-length": "3" } }), makeContext());
    await settle();
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("primary");
    expect(new TextDecoder().decode(primary.seen[0]!.body)).toBe("abc");
  });

  test("a mirror that never answers does not hold up the primary", async () => {
    const primary = recorder();
    const handler = mirrorFilter({ rate: 1, maxBodyBytes: 1024, timeoutMs: 1000, send: () => never() })(primary.handler);
    // Raced against a short timer so a regression fails here rather than hanging until the test timeout.
    const outcome = await Promise.race([handler(new Request("http://api/"), makeContext()).then((r) => r.status), delay(100).then(() => "still waiting")]);
    expect(outcome).toBe(200);
  });

  test("a slow mirror does not slow the primary: the primary answers while the mirror is still out", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let mirrorDone = false;
    const send: Handler = async () => {
      await gate;
      mirrorDone = true;
      return new Response("late");
    };
    const primary = recorder();
    const handler = mirrorFilter({ rate: 1, maxBodyBytes: 1024, timeoutMs: 1000, send })(primary.handler);
    const res = await handler(new Request("http://api/", { method: "POST", body: "x", headers: { "content-length": "1" } }), makeContext());
    expect(res.status).toBe(200);
    expect(mirrorDone).toBe(false);
    release();
    await settle();
    expect(mirrorDone).toBe(true);
  });

  test("the mirror's response body is released, never read by anyone", async () => {
    let cancelled = false;
    const handler = mirrorFilter({ rate: 1, maxBodyBytes: 1024, timeoutMs: 1000, send: async () => new Response(new ReadableStream({ cancel: () => void (cancelled = true) })) })(recorder().handler);
    await handler(new Request("http://api/"), makeContext());
    await settle();
    expect(cancelled).toBe(true);
  });

  test("the mirror runs under its own context: its own signal, fresh tried set; requestId and observer carried over", async () => {
    const caller = new AbortController();
    const ctx = makeContext(caller.signal);
    ctx.tried.add("a");
    ctx.attempts = 2;
    const observe = { attempt: () => {} };
    ctx.observe = observe;
    const m = mirrored({ timeoutMs: 1000 });
    await m.handler(new Request("http://api/"), ctx);
    await settle();
    const shadowCtx = m.shadow.seen[0]!.ctx;
    caller.abort(new Error("caller left"));
    // The caller leaving must not cut the copy short: the mirror keeps going until its own deadline.
    expect(shadowCtx.signal).not.toBe(ctx.signal);
    expect(shadowCtx.signal.aborted).toBe(false);
    expect(shadowCtx.tried.size).toBe(0);
    expect(shadowCtx.attempts).toBe(0);
    expect(shadowCtx.requestId).toBe(ctx.requestId);
    expect(shadowCtx.observe).toBe(observe);
    expect(ctx.tried.has("a")).toBe(true);
  });

  test("the mirror's signal fires at its own timeout", async () => {
    const m = mirrored({ timeoutMs: 10 });
    await m.handler(new Request("http://api/"), makeContext());
    await settle();
    const signal = m.shadow.seen[0]!.ctx.signal;
    await delay(40);
    expect(signal.aborted).toBe(true);
  });
});

test("shadowHost: the suffix goes on the host, before a port", () => {
  expect(shadowHost("orders")).toBe("orders-shadow");
  expect(shadowHost("127.0.0.1:8080")).toBe("127.0.0.1-shadow:8080");
  expect(shadowHost("[::1]:80")).toBe("[::1]-shadow:80");
  expect(shadowHost("[::1]")).toBe("[::1]-shadow");
});
