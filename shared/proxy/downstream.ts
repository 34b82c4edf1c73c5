// The core's entry for one downstream request: hygiene, path policy + route match, then the route's handler.
// Listeners (gateway, outbound sidecar) call this with the snapshot they hold for the whole request.
import type { RouteTable } from "../routing/route-table.ts";
import type { CompiledRoute, Snapshot } from "./snapshot.ts";
import type { RequestContext } from "../types.ts";
import { routeByPath } from "../routing/route-path.ts";
import { checkRequestHead, requestIdOf, setForwardedHeaders, stripHopByHop } from "./hygiene.ts";
import { errorResponse, responseForError } from "./errors.ts";

export type DownstreamInfo = {
  readonly clientIp: string | undefined;
  readonly proto: "http" | "https";
  /** Whether X-Forwarded-* from the downstream may be kept (mesh peers) or must be replaced (edge). */
  readonly trustForwarded: boolean;
  /**
   * The request target as received (path + query; an absolute-form target's path + query), when the listener has
   * it. `req.url` went through WHATWG URL parsing, which silently resolves "/a/../b" and "/a/%2e%2e/b": only the
   * raw target lets the path policy refuse those instead of routing what the parser made of them.
   */
  readonly target?: string;
};

export type DownstreamResult = {
  response: Response;
  requestId: string;
  route: string | undefined;
  ctx: RequestContext | undefined;
};

function hostOf(headers: Headers, origin: string): string {
  const raw = headers.get("host") ?? origin.slice(origin.indexOf("//") + 2);
  // Strip the port and a trailing dot; hosts match case-insensitively.
  const host = raw.startsWith("[") ? raw.slice(0, raw.indexOf("]") + 1) : raw.split(":")[0]!;
  return host.replace(/\.$/, "").toLowerCase();
}

/** Splits an absolute request URL without building a URL object (this runs on every request). */
export function splitUrl(url: string): { origin: string; pathname: string; search: string } {
  const start = url.indexOf("//") + 2;
  let slash = url.indexOf("/", start);
  if (slash < 0) slash = url.length;
  const q = url.indexOf("?", slash);
  return {
    origin: url.slice(0, slash),
    pathname: slash === url.length ? "/" : url.slice(slash, q < 0 ? url.length : q),
    search: q < 0 ? "" : url.slice(q),
  };
}

/** Splits a raw request target at its first "?" (a "#" stays where it is, for the path policy to refuse). */
export function splitTarget(target: string): { pathname: string; search: string } {
  const q = target.indexOf("?");
  return q < 0 ? { pathname: target, search: "" } : { pathname: target.slice(0, q), search: target.slice(q) };
}

/** Headers we may edit: the request's own where the runtime allows it (Bun), else a copy (Fetch guard). */
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

export async function handleDownstream(
  req: Request,
  snap: Snapshot,
  table: RouteTable<CompiledRoute>,
  info: DownstreamInfo,
): Promise<DownstreamResult> {
  const requestId = requestIdOf(req.headers);
  const url = splitUrl(req.url);
  const rejected = checkRequestHead(req, req.url.length - url.origin.length, snap.limits);
  if (rejected !== undefined) {
    return { response: errorResponse(rejected.cause, requestId, rejected.message), requestId, route: undefined, ctx: undefined };
  }
  const received = info.target === undefined ? url : splitTarget(info.target);
  const parts = { method: req.method, host: hostOf(req.headers, url.origin), headers: req.headers };
  const routed = routeByPath(table, parts, received.pathname, received.search);
  if (!routed.ok) {
    return { response: errorResponse("invalid-path", requestId, routed.reason), requestId, route: undefined, ctx: undefined };
  }
  const { head, hit } = routed;
  if (hit === undefined) {
    // Never fall back to the Host header as a destination: that would make the listener an open proxy.
    return { response: errorResponse("no-route", requestId, `no route for ${head.host}${head.path}`), requestId, route: undefined, ctx: undefined };
  }

  const headers = editableHeaders(req.headers);
  stripHopByHop(headers);
  headers.set("x-request-id", requestId);
  setForwardedHeaders(headers, info.clientIp, info.proto, info.trustForwarded);
  const upstreamReq = upstreamRequest(req, headers, `http://${head.host}`, head.path, url.pathname, url.search);

  const ctx = requestContext(requestId, req.signal);
  let response: Response;
  try {
    const upstream = await hit.value.handler(upstreamReq, ctx);
    response = cleanResponse(upstream, requestId);
  } catch (err) {
    response = responseForError(err, requestId);
  }
  return { response, requestId, route: hit.name, ctx };
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
    stripHopByHop(upstream.headers);
    upstream.headers.set("x-request-id", requestId);
    return upstream;
  } catch {
    const headers = new Headers(upstream.headers);
    stripHopByHop(headers);
    headers.set("x-request-id", requestId);
    return new Response(upstream.body, { status: upstream.status, statusText: upstream.statusText, headers });
  }
}
