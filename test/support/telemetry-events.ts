// Request and attempt events for the telemetry unit tests (labels, label caches): one outbound request to echo/v1,
// and one successful try of it, each overridable field by field.
import type { AttemptEvent, RequestEvent } from "../../shared/telemetry/observe.ts";

export const requestEvent = (over: Partial<RequestEvent> = {}): RequestEvent => ({
  listener: "outbound", method: "GET", path: "/a?b=1", status: 200, cause: undefined, requestId: "r1", startedAt: 0, durationMs: 1.5,
  route: "echo", cluster: "echo/v1", endpoint: "echo-1", attempts: 1, peer: undefined, authz: undefined, bytesIn: undefined, bytesOut: undefined, ...over,
});

export const attemptEvent = (over: Partial<AttemptEvent> = {}): AttemptEvent => ({
  requestId: "r1", cluster: "echo", endpoint: { id: "echo-1", address: "10.0.0.1", port: 9101, tags: [], meta: {} }, try: 1, status: 200, outcome: "success", durationMs: 1, ...over,
});
