// Maps why a request could not be served to a status and a small JSON body naming the cause.
// Every error the core returns goes through here so callers see one consistent shape.
import { UpstreamError, type UpstreamErrorKind } from "../types.ts";

export type ErrorCause =
  | UpstreamErrorKind
  | "bad-request"
  | "invalid-path"
  | "uri-too-long"
  | "headers-too-large"
  | "body-too-large"
  | "request-timeout"
  | "not-implemented"
  | "no-route"
  | "forbidden"
  | "unavailable"
  | "rate-limited"
  | "fault-abort"
  | "fault-reset"
  | "internal";

const STATUS: Record<ErrorCause, number> = {
  "connect-failure": 502,
  reset: 502,
  "identity-mismatch": 502,
  "no-healthy-endpoint": 503,
  // A circuit breaker threshold was reached: refused at once, like Envoy's overflow (x-envoy-overflow).
  overflow: 503,
  "rate-limited": 429,
  // Injected faults: the abort's own status replaces this default; a reset never writes a response at all.
  "fault-abort": 503,
  "fault-reset": 502,
  timeout: 504,
  "bad-request": 400,
  "invalid-path": 400,
  "uri-too-long": 414,
  "headers-too-large": 431,
  "body-too-large": 413,
  "request-timeout": 408,
  "not-implemented": 501,
  "no-route": 404,
  forbidden: 403,
  unavailable: 503,
  internal: 500,
};

export function errorResponse(cause: ErrorCause, requestId: string, message?: string, statusOverride?: number, extra?: Record<string, string>): Response {
  const status = statusOverride ?? STATUS[cause];
  const body = new TextEncoder().encode(JSON.stringify({ error: cause, status, message: message ?? cause, requestId }));
  // A declared length lets a listener write head and body in one go instead of chunking a body of known size.
  return new Response(body, {
    status,
    headers: { "content-type": "application/json", "content-length": String(body.length), "x-request-id": requestId, "x-mesh-error": cause, ...extra },
  });
}

/** Anything thrown below the route (filters, transport) becomes a 5xx with a named cause. */
export function responseForError(err: unknown, requestId: string): Response {
  if (err instanceof UpstreamError) return errorResponse(err.kind, requestId, err.message);
  if (err instanceof Error && err.name === "AbortError") return errorResponse("timeout", requestId, "request aborted");
  return errorResponse("internal", requestId, err instanceof Error ? err.message : String(err));
}

/** Responses that stand for "reset the downstream connection": listeners close the socket instead of writing them. */
const resets = new WeakSet<Response>();

/** An injected connection reset: the listener that gets this response drops the connection without an answer. */
export function resetResponse(requestId: string): Response {
  const res = errorResponse("fault-reset", requestId, "fault injected: connection reset");
  resets.add(res);
  return res;
}

export function isResetResponse(res: Response): boolean {
  return resets.has(res);
}
