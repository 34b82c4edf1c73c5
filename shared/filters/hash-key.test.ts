// Unit tests for the session affinity filter: the key read from a header, one cookie among several, or the caller,
// hashed into ctx.hash with hash32; a request without its key gets no hash (the balancer then spreads it).
import { describe, expect, test } from "bun:test";
import type { HashOnKind, RequestContext } from "../types.ts";
import { hash32 } from "../upstream/hash-key.ts";
import { hashFilter } from "./hash-key.ts";
import { makeContext } from "../../test/support/filter-context.ts";

/** Runs one request through the filter; returns ctx.hash as the next handler saw it. */
async function hashOf(on: HashOnKind, headers: Record<string, string> = {}, who: Partial<RequestContext> = {}): Promise<number | undefined> {
  let seen: number | undefined;
  const ctx = { ...makeContext(), ...who };
  await hashFilter(on)(async (_req, c) => {
    seen = c.hash;
    return new Response(null);
  })(new Request("http://api/", { headers }), ctx);
  expect(ctx.hash).toBe(seen); // set on the request's own context, before next runs
  return seen;
}

describe("hashFilter: header", () => {
  test("the header's value is hashed; the configured name matches in any case", async () => {
    expect(await hashOf({ header: "X-User" }, { "x-user": "alice" })).toBe(hash32("alice"));
    expect(await hashOf({ header: "x-user" }, { "X-USER": "alice" })).toBe(hash32("alice"));
    expect(await hashOf({ header: "x-user" }, { "x-user": "bob" })).toBe(hash32("bob"));
  });

  test("missing or empty header: no hash", async () => {
    expect(await hashOf({ header: "x-user" }, { "x-other": "alice" })).toBeUndefined();
    expect(await hashOf({ header: "x-user" }, { "x-user": "" })).toBeUndefined();
  });
});

describe("hashFilter: cookie", () => {
  test("the named cookie's value, found among several", async () => {
    const cookie = "theme=dark; session=s-123; lang=en";
    expect(await hashOf({ cookie: "session" }, { cookie })).toBe(hash32("s-123"));
    expect(await hashOf({ cookie: "theme" }, { cookie })).toBe(hash32("dark"));
    expect(await hashOf({ cookie: "lang" }, { cookie })).toBe(hash32("en"));
  });

  test("a cookie whose name merely contains or extends the wanted one is not it", async () => {
    expect(await hashOf({ cookie: "session" }, { cookie: "xsession=a; sessionid=b" })).toBeUndefined();
    expect(await hashOf({ cookie: "session" }, { cookie: "xsession=a; session=c" })).toBe(hash32("c"));
  });

  test("a value containing '=' is kept whole", async () => {
    expect(await hashOf({ cookie: "token" }, { cookie: "a=1; token=abc==; b=2" })).toBe(hash32("abc=="));
  });

  test("no Cookie header, the cookie absent, or empty: no hash", async () => {
    expect(await hashOf({ cookie: "session" })).toBeUndefined();
    expect(await hashOf({ cookie: "session" }, { cookie: "theme=dark" })).toBeUndefined();
    expect(await hashOf({ cookie: "session" }, { cookie: "session=; theme=dark" })).toBeUndefined();
  });
});

describe("hashFilter: caller", () => {
  const web = "spiffe://mesh/ns/default/svc/web";

  test("the verified peer, else the client address; the peer wins when there are both", async () => {
    expect(await hashOf({ caller: true }, {}, { peer: web })).toBe(hash32(web));
    expect(await hashOf({ caller: true }, {}, { clientIp: "10.0.0.7" })).toBe(hash32("10.0.0.7"));
    expect(await hashOf({ caller: true }, {}, { peer: web, clientIp: "10.0.0.7" })).toBe(hash32(web));
  });

  test("neither: no hash", async () => {
    expect(await hashOf({ caller: true })).toBeUndefined();
  });

  test("headers are never the caller (a client cannot choose its affinity by sending one)", async () => {
    expect(await hashOf({ caller: true }, { "x-forwarded-for": "10.0.0.9", "x-client-cert": web })).toBeUndefined();
  });
});
