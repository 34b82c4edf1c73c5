// The core's entry for one downstream request: hygiene, canonical path, route match, then the route's handler.
// Listeners (gateway, outbound sidecar) call this with the snapshot they hold for the whole request.
import type { RouteTable } from "../routing/route-table.ts";
import type { CompiledRoute, Snapshot } from "../config/snapshot.ts";
import type { RequestContext } from "../types.ts";
import { canonicalizePath } from "../routing/canonical-path.ts";
import { checkRequestHead, requestIdOf, setForwardedHeaders, stripHopByHop } from "./hygiene.ts";
import { errorResponse, responseForError } from "./errors.ts";

export type DownstreamInfo = {
  readonly clientIp: string | undefined;
  readonly proto: "http" | "https";
  /** Whether X-Forwarded-* from the downstream may be kept (mesh peers) or must be replaced (edge). */
  readonly trustForwarded: boolean;
};

export type DownstreamResult = {
  response: Response;
  requestId: string;
  route: string | undefined;
  ctx: RequestContext | undefined;
};

function hostOf(headers: Headers, url: URL): string {
  const raw = headers.get("host") ?? url.host;
  // Strip the port and a trailing dot; hosts match case-insensitively.
  const host = raw.startsWith("[") ? raw.slice(0, raw.indexOf("]") + 1) : raw.split(":")[0]!;
  return host.replace(/\.$/, "").toLowerCase();
}

export async function handleDownstream(
  req: Request,
  snap: Snapshot,
  table: RouteTable<CompiledRoute>,
  info: DownstreamInfo,
): Promise<DownstreamResult> {
  const requestId = requestIdOf(req.headers);
  const url = new URL(req.url);
  const targetLength = req.url.length - url.origin.length;
  const rejected = checkRequestHead(req, targetLength, snap.limits);
  if (rejected !== undefined) {
    return { response: errorResponse(rejected.cause, requestId, rejected.message), requestId, route: undefined, ctx: undefined };
  }
  const canonical = canonicalizePath(url.pathname);
  if (!canonical.ok) {
    return { response: errorResponse("invalid-path", requestId, canonical.reason), requestId, route: undefined, ctx: undefined };
  }
  const head = { method: req.method, host: hostOf(req.headers, url), path: canonical.path, headers: req.headers, query: url.searchParams };
  const hit = table.match(head);
  if (hit === undefined) {
    // Never fall back to the Host header as a destination: that would make the listener an open proxy.
    return { response: errorResponse("no-route", requestId, `no route for ${head.host}${head.path}`), requestId, route: undefined, ctx: undefined };
  }

  const headers = new Headers(req.headers);
  stripHopByHop(headers);
  headers.set("x-request-id", requestId);
  setForwardedHeaders(headers, info.clientIp, info.proto, info.trustForwarded);
  const hasBody = req.body !== null && req.method !== "GET" && req.method !== "HEAD";
  const upstreamUrl = `http://${head.host}${canonical.path}${url.search}`;
  const upstreamReq = new Request(upstreamUrl, {
    method: req.method,
    headers,
    body: hasBody ? req.body : null,
    // @ts-expect-error duplex is required for streamed bodies but missing from the DOM typings
    duplex: "half",
    signal: req.signal,
  });

  const ctx: RequestContext = { requestId, startedAt: performance.now(), signal: req.signal, tried: new Set(), attempts: 0 };
  let response: Response;
  try {
    const upstream = await hit.value.handler(upstreamReq, ctx);
    response = cleanResponse(upstream, requestId);
  } catch (err) {
    response = responseForError(err, requestId);
  }
  return { response, requestId, route: hit.name, ctx };
}

/** Strips hop-by-hop headers from the upstream response and stamps the request id. */
export function cleanResponse(upstream: Response, requestId: string): Response {
  const headers = new Headers(upstream.headers);
  stripHopByHop(headers);
  headers.set("x-request-id", requestId);
  return new Response(upstream.body, { status: upstream.status, statusText: upstream.statusText, headers });
}
