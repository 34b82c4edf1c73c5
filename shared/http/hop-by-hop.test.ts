// Unit tests for hop-by-hop header hygiene: the fixed list, Proxy-*, and names listed in Connection.
// End-to-end identity headers are untouched here (the handler owns them).

import { expect, test } from "bun:test";
import { connectionTokens, isHopByHop, stripHopByHop } from "./hop-by-hop.ts";

test("strips the fixed hop-by-hop list, Proxy-* and Connection-named fields", () => {
  const h = new Headers({
    connection: "keep-alive, X-Secret",
    "keep-alive": "timeout=5",
    te: "trailers",
    "transfer-encoding": "chunked",
    upgrade: "websocket",
    "proxy-authorization": "Basic x",
    "proxy-connection": "keep-alive",
    "x-secret": "1",
    "content-length": "5",
    "x-forwarded-client-cert": "kept: the handler decides",
    host: "svc",
  });
  expect([...stripHopByHop(h).keys()].sort()).toEqual(["content-length", "host", "x-forwarded-client-cert"]);
});

test("connection tokens are lower-cased and split on commas", () => {
  expect([...(connectionTokens(["A, b ,,C"]) ?? [])]).toEqual(["a", "b", "c"]);
  expect(connectionTokens([])).toBeUndefined();
  expect(isHopByHop("x-a", new Set(["x-a"]))).toBe(true);
  expect(isHopByHop("x-a", undefined)).toBe(false);
});

test("the fixed list by name, and names of the same lengths that are not on it", () => {
  const list = ["connection", "keep-alive", "te", "transfer-encoding", "upgrade", "trailer", "proxy-connection", "expect", "http2-settings"];
  for (const n of list) expect(isHopByHop(n, undefined)).toBe(true);
  for (const n of ["user-agent", "x-forwarded-proto", "x-mesh-client-id", "accept", "tk", "trailers", "content-length", "host"]) expect(isHopByHop(n, undefined)).toBe(false);
});
