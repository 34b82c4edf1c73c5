// Unit tests for the header rewrite filter: set/add/remove on requests and responses, order of ops,
// bodies passing through untouched, and no work at all when there are no ops.
import { describe, expect, test } from "bun:test";
import type { Handler } from "../types.ts";
import { compileHeaderEdit, headerOpsFilter } from "./header-ops.ts";
import { FieldList } from "../http/field-list.ts";
import { chunkedStream, makeContext } from "../../test/support/filter-context.ts";

describe("headerOpsFilter", () => {
  test("request: remove, then set, then add", async () => {
    let seen: Headers | undefined;
    const handler = headerOpsFilter({
      request: { remove: ["X-Internal", "x-both"], set: { "x-env": "prod", "x-both": "set" }, add: { "x-tag": "mesh", "x-both": "added" } },
    })(async (req) => {
      seen = req.headers;
      return new Response(null);
    });
    const req = new Request("http://s/", { headers: { "x-internal": "secret", "x-env": "dev", "x-tag": "client", "x-both": "client" } });
    await handler(req, makeContext());
    expect(seen?.get("x-internal")).toBeNull();
    expect(seen?.get("x-env")).toBe("prod");
    expect(seen?.get("x-tag")).toBe("client, mesh");
    expect(seen?.get("x-both")).toBe("set, added");
    expect(req.headers.get("x-env")).toBe("dev"); // the original Request is not mutated
  });

  test("request: sending the same Request twice (as retry does) does not pile up added values", async () => {
    const seen: (string | null)[] = [];
    const handler = headerOpsFilter({ request: { add: { "x-tag": "mesh" } } })(async (req) => {
      seen.push(req.headers.get("x-tag"));
      return new Response(null);
    });
    const req = new Request("http://s/");
    await handler(req, makeContext());
    await handler(req, makeContext());
    expect(seen).toEqual(["mesh", "mesh"]);
  });

  test("request: method, url and streaming body are handed on intact", async () => {
    let got: { method: string; url: string; body: string } | undefined;
    const handler = headerOpsFilter({ request: { set: { a: "1" } } })(async (req) => {
      got = { method: req.method, url: req.url, body: await req.text() };
      return new Response(null);
    });
    const req = new Request("http://s/p?q=1", { method: "PATCH", body: chunkedStream(["ab", "cd"]), duplex: "half" } as RequestInit);
    await handler(req, makeContext());
    expect(got).toEqual({ method: "PATCH", url: "http://s/p?q=1", body: "abcd" });
  });

  test("response: ops applied on a new Response; status, statusText and body kept", async () => {
    const upstream = new Response(chunkedStream(["he", "llo"]), { status: 418, statusText: "Teapot", headers: { server: "nginx", "x-a": "1" } });
    const res = await headerOpsFilter({ response: { remove: ["server"], set: { "x-a": "2" }, add: { "x-b": "3" } } })(async () => upstream)(
      new Request("http://s/"),
      makeContext(),
    );
    expect(res).not.toBe(upstream);
    expect(res.status).toBe(418);
    expect(res.statusText).toBe("Teapot");
    expect(res.headers.get("server")).toBeNull();
    expect(res.headers.get("x-a")).toBe("2");
    expect(res.headers.get("x-b")).toBe("3");
    expect(await res.text()).toBe("hello");
  });

  test("response ops work even when the upstream response's headers are immutable", async () => {
    const upstream = Response.redirect("http://elsewhere/", 302); // spec: immutable headers guard
    const res = await headerOpsFilter({ response: { set: { "x-mesh": "1" } } })(async () => upstream)(new Request("http://s/"), makeContext());
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("http://elsewhere/");
    expect(res.headers.get("x-mesh")).toBe("1");
  });

  test("only request ops: the upstream Response object is returned as is", async () => {
    const upstream = new Response("x");
    const res = await headerOpsFilter({ request: { set: { a: "1" } } })(async () => upstream)(new Request("http://s/"), makeContext());
    expect(res).toBe(upstream);
  });

  test("no ops (or empty ones): the filter returns next itself", () => {
    const next: Handler = async () => new Response(null);
    expect(headerOpsFilter({})(next)).toBe(next);
    expect(headerOpsFilter({ request: {}, response: { set: {}, add: {}, remove: [] } })(next)).toBe(next);
  });
});

describe("compileHeaderEdit on a FieldList (the relays' fields)", () => {
  test("the same ops, names lower-cased, with Headers' outcome: remove, then set, then add", () => {
    const ops = { remove: ["X-Internal", "x-both"], set: { "X-Env": "prod", "x-both": "set" }, add: { "X-Tag": "mesh", "x-both": "added" } };
    const list = new FieldList([["x-internal", "1"], ["x-env", "dev"], ["x-env", "dev2"], ["x-both", "old"], ["x-tag", "app"]]);
    compileHeaderEdit(ops)!(list);
    const headers = new Headers([["x-internal", "1"], ["x-env", "dev"], ["x-env", "dev2"], ["x-both", "old"], ["x-tag", "app"]]);
    compileHeaderEdit(ops)!(headers);
    for (const name of ["x-internal", "x-env", "x-both", "x-tag"]) expect(list.get(name)).toBe(headers.get(name));
    expect(list.fields).toEqual([["x-tag", "app"], ["x-env", "prod"], ["x-both", "set"], ["x-tag", "mesh"], ["x-both", "added"]]);
  });

  test("no ops: nothing to apply", () => {
    expect(compileHeaderEdit(undefined)).toBeUndefined();
    expect(compileHeaderEdit({ set: {}, add: {}, remove: [] })).toBeUndefined();
  });
});
