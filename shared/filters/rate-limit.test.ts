// Unit tests for the local rate limit filter: 429 with Retry-After once the burst is spent, the upstream never reached,
// and independent buckets per header value (header name in any case) or per caller (verified peer, else client address).
import { describe, expect, test } from "bun:test";
import type { Handler, RequestContext } from "../types.ts";
import { createKeyedBuckets, type KeyedBuckets, type TokenBucketConfig } from "../upstream/token-bucket.ts";
import { rateLimitFilter, type RateLimitKey } from "./rate-limit.ts";
import { chunkedStream, makeContext } from "../../test/support/filter-context.ts";

function upstream() {
  let calls = 0;
  const handler: Handler = async () => {
    calls++;
    return new Response("ok");
  };
  return { handler, calls: () => calls };
}

/** Real buckets, with every key passed to take() recorded: the key is what decides which bucket a request drains. */
function spyBuckets(c: TokenBucketConfig): KeyedBuckets & { keys: string[] } {
  const real = createKeyedBuckets(c);
  const keys: string[] = [];
  return {
    keys,
    configure: (n) => real.configure(n),
    take(key, now) {
      keys.push(key);
      return real.take(key, now);
    },
    get size() {
      return real.size;
    },
  };
}

function limited(key: RateLimitKey, c: TokenBucketConfig = { ratePerSecond: 1, burst: 1 }) {
  const buckets = spyBuckets(c);
  const up = upstream();
  const handler = rateLimitFilter(buckets, key)(up.handler);
  const status = async (headers: Record<string, string> = {}, who: Partial<RequestContext> = {}) =>
    (await handler(new Request("http://api/", { headers }), { ...makeContext(), ...who })).status;
  return { buckets, up, handler, status };
}

const WHOLE_SECONDS = /^[1-9][0-9]*$/;

describe("rateLimitFilter: over the limit", () => {
  test("the burst passes, then 429 with Retry-After and x-mesh-error rate-limited; the upstream is not called", async () => {
    const { up, handler } = limited(undefined, { ratePerSecond: 0.25, burst: 3 });
    for (let i = 0; i < 3; i++) expect((await handler(new Request("http://api/"), makeContext())).status).toBe(200);
    const res = await handler(new Request("http://api/"), makeContext());
    expect(res.status).toBe(429);
    expect(res.headers.get("x-mesh-error")).toBe("rate-limited");
    // One token per 4 s and none left: the client is told to come back in 4 whole seconds (rounded up, never less).
    expect(res.headers.get("retry-after")).toBe("4");
    expect(up.calls()).toBe(3);
  });

  test("Retry-After is a whole number of seconds and at least 1, even when the wait is a millisecond", async () => {
    const { handler } = limited(undefined, { ratePerSecond: 1000, burst: 1 });
    await handler(new Request("http://api/"), makeContext());
    const res = await handler(new Request("http://api/"), makeContext());
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toMatch(WHOLE_SECONDS);
    expect(res.headers.get("retry-after")).toBe("1");
  });

  test("Retry-After rounds a fractional wait up", async () => {
    const { handler } = limited(undefined, { ratePerSecond: 0.4, burst: 1 }); // one token per 2.5 s
    await handler(new Request("http://api/"), makeContext());
    const retryAfter = (await handler(new Request("http://api/"), makeContext())).headers.get("retry-after");
    expect(retryAfter).toMatch(WHOLE_SECONDS);
    expect(retryAfter).toBe("3");
  });

  test("a refused request's body is cancelled (it will never be forwarded)", async () => {
    const { handler } = limited(undefined);
    await handler(new Request("http://api/"), makeContext());
    let cancelled = false;
    const body = chunkedStream(["x"], () => (cancelled = true));
    const res = await handler(new Request("http://api/", { method: "POST", body, duplex: "half" } as RequestInit), makeContext());
    expect(res.status).toBe(429);
    await Promise.resolve(); // the cancel is fired, not awaited, before the 429 goes out
    expect(cancelled).toBe(true);
  });
});

describe("rateLimitFilter: keys", () => {
  test("unkeyed: one bucket for everyone", async () => {
    const { buckets, status } = limited(undefined);
    expect(await status({ "x-tenant": "a" }, { peer: "spiffe://mesh/ns/default/svc/web" })).toBe(200);
    expect(await status({ "x-tenant": "b" }, { peer: "spiffe://mesh/ns/default/svc/batch" })).toBe(429);
    expect(buckets.keys).toEqual(["", ""]);
  });

  test("by header: each value has its own bucket; the configured name matches in any case", async () => {
    const { buckets, up, status } = limited({ header: "X-Tenant" });
    expect(await status({ "x-tenant": "a" })).toBe(200);
    expect(await status({ "X-TENANT": "a" })).toBe(429);
    expect(await status({ "x-tenant": "b" })).toBe(200); // a's exhaustion does not touch b
    expect(await status({ "x-tenant": "b" })).toBe(429);
    expect(buckets.keys).toEqual(["a", "a", "b", "b"]);
    expect(up.calls()).toBe(2);
  });

  test("by header: requests without it share the empty key", async () => {
    const { buckets, status } = limited({ header: "x-tenant" });
    expect(await status()).toBe(200);
    expect(await status({ "x-other": "a" })).toBe(429);
    expect(await status({ "x-tenant": "a" })).toBe(200);
    expect(buckets.keys).toEqual(["", "", "a"]);
  });

  test("by caller: the verified peer's bucket, independent per peer", async () => {
    const { buckets, status } = limited({ caller: true });
    const web = "spiffe://mesh/ns/default/svc/web";
    const batch = "spiffe://mesh/ns/default/svc/batch";
    expect(await status({}, { peer: web })).toBe(200);
    expect(await status({}, { peer: web })).toBe(429);
    expect(await status({}, { peer: batch })).toBe(200);
    expect(buckets.keys).toEqual([web, web, batch]);
  });

  test("by caller: the client address when there is no peer; the peer wins when there are both", async () => {
    const { buckets, status } = limited({ caller: true });
    expect(await status({}, { clientIp: "10.0.0.1" })).toBe(200);
    expect(await status({}, { clientIp: "10.0.0.1" })).toBe(429);
    expect(await status({}, { clientIp: "10.0.0.2" })).toBe(200);
    // Same address, but a verified identity: keyed on the identity, so 10.0.0.1's bucket does not apply.
    expect(await status({}, { clientIp: "10.0.0.1", peer: "spiffe://mesh/ns/default/svc/web" })).toBe(200);
    expect(buckets.keys).toEqual(["10.0.0.1", "10.0.0.1", "10.0.0.2", "spiffe://mesh/ns/default/svc/web"]);
  });

  test("by caller: a request with neither peer nor address falls into the empty key", async () => {
    const { buckets, status } = limited({ caller: true });
    expect(await status()).toBe(200);
    expect(buckets.keys).toEqual([""]);
  });
});
