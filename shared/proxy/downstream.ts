// The core's entry for one downstream request: hygiene, path policy + route match, then the route's handler.
// Listeners (gateway, outbound sidecar) call this with the snapshot they hold for the whole request.
import type { RouteTable } from "../routing/route-table.ts";
import type { CompiledRoute, Snapshot } from "./snapshot.ts";
import type { HopTrace, RequestContext } from "../types.ts";
import type { Observation } from "../telemetry/observe.ts";
import { routeByPath } from "../routing/route-path.ts";
import { routingHost, splitTarget, splitUrl } from "../http/url.ts";
import { removeHopByHop } from "../http/hop-by-hop.ts";
import { checkRequestHead, requestIdOf, setForwardedHeaders } from "./hygiene.ts";
import { errorResponse, responseForError } from "../http/errors.ts";
import { cleanResponse, editableHeaders, requestContext, upstreamRequest } from "./messages.ts";
import { emitRequest } from "./emit.ts";
import { propagateTrace, traceHop } from "../telemetry/trace-hop.ts";

export type DownstreamInfo = {
  /** Names the listener in observation events ("gateway/http", "outbound"). */
  readonly listener: string;
  readonly observe: Observation;
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
  /** This hop's span; undefined for a request refused before routing (the event then reads it alone). */
  trace: HopTrace | undefined;
};

function hostOf(headers: Headers, origin: string): string {
  return routingHost(headers.get("host") ?? origin.slice(origin.indexOf("//") + 2));
}

export async function handleDownstream(
  req: Request,
  snap: Snapshot,
  table: RouteTable<CompiledRoute>,
  info: DownstreamInfo,
): Promise<DownstreamResult> {
  const startedAt = performance.now();
  const r = await route(req, snap, table, info);
  if (info.observe.wantsRequests) {
    // A refused request forwards nothing, so its trace is read only when someone records it.
    if (r.trace === undefined && r.ctx === undefined) r.trace = traceHop(req.headers, snap.traceSampling);
    emitRequest(info.observe, info.listener, req, info.target, r, startedAt, undefined);
  }
  return r;
}

async function route(req: Request, snap: Snapshot, table: RouteTable<CompiledRoute>, info: DownstreamInfo): Promise<DownstreamResult> {
  const requestId = requestIdOf(req.headers);
  const url = splitUrl(req.url);
  const rejected = checkRequestHead(req, req.url.length - url.origin.length, snap.limits);
  if (rejected !== undefined) {
    return { response: errorResponse(rejected.cause, requestId, rejected.message), requestId, route: undefined, ctx: undefined, trace: undefined };
  }
  const received = info.target === undefined ? url : splitTarget(info.target);
  const routed = routeByPath(table, req.method, hostOf(req.headers, url.origin), req.headers, received.pathname, received.search);
  if (!routed.ok) {
    return { response: errorResponse("invalid-path", requestId, routed.reason), requestId, route: undefined, ctx: undefined, trace: undefined };
  }
  const { head, hit } = routed;
  if (hit === undefined) {
    // Never fall back to the Host header as a destination: that would make the listener an open proxy.
    return { response: errorResponse("no-route", requestId, `no route for ${head.host}${head.path}`), requestId, route: undefined, ctx: undefined, trace: undefined };
  }

  const headers = editableHeaders(req.headers);
  removeHopByHop(headers);
  headers.set("x-request-id", requestId);
  setForwardedHeaders(headers, info.clientIp, info.proto, info.trustForwarded);
  // Before the upstream request exists: its traceparent names this hop's span. A route may override the rate; its
  // "0" in a mesh that samples still starts an unsampled trace, so the members behind this one follow that "no".
  const rate = hit.value.traceSampling ?? snap.traceSampling;
  const trace = propagateTrace(headers, rate, rate > 0 || snap.traceSampling > 0);
  const upstreamReq = upstreamRequest(req, headers, `http://${head.host}`, head.path, url.pathname, url.search);

  const ctx = requestContext(requestId, req.signal);
  if (info.observe.wantsAttempts) ctx.observe = info.observe;
  if (info.clientIp !== undefined) ctx.clientIp = info.clientIp;
  if (trace !== undefined) ctx.trace = trace;
  let response: Response;
  try {
    const upstream = await hit.value.handler(upstreamReq, ctx);
    response = cleanResponse(upstream, requestId);
  } catch (err) {
    response = responseForError(err, requestId);
  }
  return { response, requestId, route: hit.name, ctx, trace };
}
