// Unit tests for the hand-formatted access line: valid JSON with pino's shape, and safe escaping.
// Because it bypasses pino, the escaping of untrusted values (path, request id) is what matters here.
import { expect, test } from "bun:test";
import { formatAccessLine } from "./access-log.ts";

test("an access line is one JSON object with pino's fields", () => {
  const line = formatAccessLine("sidecar/echo", { listener: "outbound", method: "GET", url: "http://echo/a?b=1", status: 200, requestId: "r1", startedAt: performance.now() - 1.5, route: "echo-split" }, 1700000000000);
  expect(line.endsWith("\n")).toBe(true);
  const j = JSON.parse(line);
  expect(j).toMatchObject({ level: 30, time: 1700000000000, name: "sidecar/echo", listener: "outbound", method: "GET", path: "/a?b=1", status: 200, requestId: "r1", route: "echo-split", msg: "access" });
  expect(j.ms).toBeGreaterThan(1);
});

test("untrusted values are escaped, never break the line", () => {
  const line = formatAccessLine("gw", { listener: "http", method: "GET", url: 'http://h/"},"level":60,"x":"\n', status: 404, requestId: 'a"b', startedAt: performance.now() }, 1);
  expect(line.split("\n").length).toBe(2);
  const j = JSON.parse(line);
  expect(j.level).toBe(30);
  expect(j.path).toBe('/"},"level":60,"x":"\n');
  expect(j.requestId).toBe('a"b');
});

test("attempts and upstream come from the request context", () => {
  const ctx = { requestId: "r", startedAt: 0, signal: new AbortController().signal, tried: new Set<string>(), attempts: 0, lastEndpoint: { id: "echo-v1", address: "127.0.0.1", port: 1, tags: [], meta: {} } };
  const j = JSON.parse(formatAccessLine("x", { listener: "l", method: "GET", url: "http://h/", status: 200, requestId: "r", startedAt: 0, ctx }, 1));
  expect(j.upstream).toBe("echo-v1");
  expect(j.attempts).toBe(1);
});
