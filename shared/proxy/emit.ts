// Builds the one request event per downstream request (only when someone subscribed: callers check first).
// Fields come from what the core already has: route, last endpoint, tries, the mesh's own error cause.
import type { Observation } from "../telemetry/observe.ts";
import type { DownstreamResult } from "./downstream.ts";
import { pathAndQuery } from "../http/url.ts";

const declared = (h: Headers): number | undefined => {
  const v = h.get("content-length");
  return v === null ? undefined : Number(v);
};

export function emitRequest(
  observe: Observation,
  listener: string,
  req: Request,
  target: string | undefined,
  r: DownstreamResult,
  startedAt: number,
  peer: string | undefined,
): void {
  const ctx = r.ctx;
  const res = r.response;
  observe.request({
    listener,
    method: req.method,
    path: target ?? pathAndQuery(req.url),
    status: res.status,
    cause: res.headers.get("x-mesh-error") ?? undefined,
    requestId: r.requestId,
    startedAt,
    durationMs: performance.now() - startedAt,
    route: r.route,
    cluster: ctx?.lastCluster,
    endpoint: ctx?.lastEndpoint?.id,
    // The retry filter counts tries; a route without one made at most a single try.
    attempts: ctx === undefined ? 0 : ctx.attempts || (ctx.lastEndpoint ? 1 : 0),
    peer,
    authz: ctx?.authz,
    bytesIn: declared(req.headers),
    bytesOut: declared(res.headers),
    trace: r.trace,
    fault: ctx?.fault,
  });
}
