// The request and response plumbing both entries share (downstream and inbound): editable headers, the per-request
// context with its one abort controller, the upstream request, and response cleanup.
import type { RequestContext } from "../types.ts";
import { removeHopByHop } from "../http/hop-by-hop.ts";

/** Headers we may edit: the request's own where the runtime allows it, else a copy (Fetch guard). */
export function editableHeaders(headers: Headers): Headers {
  try {
    headers.delete("proxy-connection");
    return headers;
  } catch {
    return new Headers(headers);
  }
}

/** One controller per request: the downstream going away and the whole-request timeout both abort it. */
export function requestContext(requestId: string, downstream: AbortSignal): RequestContext {
  const controller = new AbortController();
  if (downstream.aborted) controller.abort(downstream.reason);
  else downstream.addEventListener("abort", () => controller.abort(downstream.reason), { once: true });
  return {
    requestId,
    startedAt: performance.now(),
    signal: controller.signal,
    cancel: (reason) => controller.abort(reason),
    tried: new Set(),
    attempts: 0,
  };
}

/**
 * The request to send upstream. When the path was already canonical and the runtime let us edit the headers in
 * place, the downstream Request already is that request: reuse it (a Request costs microseconds per hop).
 */
export function upstreamRequest(req: Request, headers: Headers, origin: string, path: string, rawPath: string, search: string): Request {
  if (headers === req.headers && path === rawPath) return req;
  const hasBody = req.body !== null && req.method !== "GET" && req.method !== "HEAD";
  return new Request(`${origin}${path}${search}`, {
    method: req.method,
    headers,
    body: hasBody ? req.body : null,
    // @ts-expect-error duplex is required for streamed bodies but missing from the DOM typings
    duplex: "half",
  });
}

/** Strips hop-by-hop headers from the upstream response and stamps the request id (in place when allowed). */
export function cleanResponse(upstream: Response, requestId: string): Response {
  try {
    removeHopByHop(upstream.headers);
    upstream.headers.set("x-request-id", requestId);
    return upstream;
  } catch {
    const headers = new Headers(upstream.headers);
    removeHopByHop(headers);
    headers.set("x-request-id", requestId);
    return new Response(upstream.body, { status: upstream.status, statusText: upstream.statusText, headers });
  }
}
