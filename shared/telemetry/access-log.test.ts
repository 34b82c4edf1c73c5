// Unit tests for the hand-formatted access line: valid JSON with pino's shape, and safe escaping.
// Because it bypasses pino, the escaping of untrusted values (path, request id) is what matters here.
import { expect, test } from "bun:test";
import { formatAccessLine, subscribeAccessLog } from "./access-log.ts";
import { createObservation, type RequestEvent } from "./observe.ts";

const event = (over: Partial<RequestEvent> = {}): RequestEvent => ({
  listener: "outbound", method: "GET", path: "/a?b=1", status: 200, cause: undefined, requestId: "r1", startedAt: 0, durationMs: 1.5,
  route: "echo-split", cluster: "echo", endpoint: undefined, attempts: 1, peer: undefined, authz: undefined, bytesIn: undefined, bytesOut: undefined, ...over,
});

test("an access line is one JSON object with pino's fields", () => {
  const line = formatAccessLine("sidecar/echo", event(), 1700000000000);
  expect(line.endsWith("\n")).toBe(true);
  const j = JSON.parse(line);
  expect(j).toMatchObject({ level: 30, time: 1700000000000, name: "sidecar/echo", listener: "outbound", method: "GET", path: "/a?b=1", status: 200, ms: 1.5, requestId: "r1", route: "echo-split", attempts: 1, msg: "access" });
});

test("untrusted values are escaped, never break the line", () => {
  const line = formatAccessLine("gw", event({ path: '/"},"level":60,"x":"\n', requestId: 'a"b', status: 404 }), 1);
  expect(line.split("\n").length).toBe(2);
  const j = JSON.parse(line);
  expect(j.level).toBe(30);
  expect(j.path).toBe('/"},"level":60,"x":"\n');
  expect(j.requestId).toBe('a"b');
});

test("upstream, cause and peer appear when the event has them", () => {
  const j = JSON.parse(formatAccessLine("x", event({ endpoint: "echo-v1", cause: "timeout", status: 504, peer: "spiffe://mesh.local/ns/default/svc/web" }), 1));
  expect(j).toMatchObject({ upstream: "echo-v1", cause: "timeout", peer: "spiffe://mesh.local/ns/default/svc/web" });
});

test("traceId and spanId appear when the request is part of a trace, sampled or not", () => {
  const trace = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", parentSpanId: undefined, sampled: false, tracestate: undefined, from: undefined };
  const j = JSON.parse(formatAccessLine("x", event({ trace }), 1));
  expect(j).toMatchObject({ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7" });
  const none = JSON.parse(formatAccessLine("x", event(), 1));
  expect(none.traceId).toBeUndefined();
  expect(none.spanId).toBeUndefined();
});

test("the access log subscribes to the hook only when on", () => {
  const observe = createObservation();
  const lines: string[] = [];
  const sink = { write: (l: string) => void lines.push(l), flush() {} };
  subscribeAccessLog(observe, "x", sink, false);
  expect(observe.wantsRequests).toBe(false);
  const off = subscribeAccessLog(observe, "x", sink, true);
  observe.request(event());
  expect(lines).toHaveLength(1);
  off();
  expect(observe.wantsRequests).toBe(false);
});
