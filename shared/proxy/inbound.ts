// The core's entry for one request arriving at an inbound sidecar (from a verified mesh peer, or a plaintext caller): hygiene,
// the path policy, then the inbound filter chain (identity header from the peer certificate, authorization), then the app.
import type { Filter, Handler } from "../types.ts";
import type { Observation } from "../telemetry/observe.ts";
import type { ResolvedLimits } from "./hygiene.ts";
import { canonicalizePath } from "../http/canonical-path.ts";
import { splitTarget, splitUrl } from "../http/url.ts";
import { removeHopByHop } from "../http/hop-by-hop.ts";
import { checkRequestHead, requestIdOf, setForwardedHeaders } from "./hygiene.ts";
import { errorResponse, responseForError } from "../http/errors.ts";
import { cleanResponse, editableHeaders, requestContext, upstreamRequest } from "./messages.ts";
import { emitRequest } from "./emit.ts";
import type { DownstreamResult } from "./downstream.ts";
import { identityFilter } from "../filters/identity.ts";
import { propagateTrace, traceHop } from "../telemetry/trace-hop.ts";
import { DEFAULTS } from "../config/defaults.ts";

/** A verified caller: the SPIFFE id from its certificate (the transport checked it against the X509-SVID rules). */
export type InboundPeer = { readonly spiffeId: string };

export type InboundOptions = {
  readonly observe: Observation;
  readonly limits: () => ResolvedLimits;
  /** The last hop: the app on loopback, with exactly the headers the request carries. */
  readonly forward: (req: Request, signal: AbortSignal) => Promise<Response>;
  /** Filters between identity and the app (authorization goes here), outermost first. */
  readonly filters?: readonly Filter[];
  /** Probability that a trace started here (no caller context) is sampled: the live snapshot's. Default: the config default. */
  readonly traceSampling?: () => number;
};

/** `peer` undefined: a plaintext caller that a "permissive" inbound accepted; it has no identity. */
export type InboundHandler = (req: Request, peer: InboundPeer | undefined, target: string) => Promise<Response>;

/** Builds the inbound chain once; each request then runs hygiene, the chain, and the forward to the app. */
export function createInboundHandler(opts: InboundOptions): InboundHandler {
  const app: Handler = async (req, ctx) => opts.forward(req, ctx.signal);
  const chain = [identityFilter(), ...(opts.filters ?? [])].reduceRight<Handler>((next, f) => f(next), app);
  const rate = opts.traceSampling ?? (() => DEFAULTS.traceSampling / 100);

  const handle = async (req: Request, peer: InboundPeer | undefined, target: string, requestId: string): Promise<DownstreamResult> => {
    const url = splitUrl(req.url);
    const rejected = checkRequestHead(req, req.url.length - url.origin.length, opts.limits());
    if (rejected !== undefined) return { response: errorResponse(rejected.cause, requestId, rejected.message), requestId, route: undefined, ctx: undefined, trace: undefined };
    // The raw target, not req.url: URL parsing has already resolved any dot-segments the policy must refuse.
    const received = splitTarget(target);
    const canonical = canonicalizePath(received.pathname, received.search);
    if (!canonical.ok) return { response: errorResponse("invalid-path", requestId, canonical.reason), requestId, route: undefined, ctx: undefined, trace: undefined };

    const headers = editableHeaders(req.headers);
    removeHopByHop(headers);
    headers.set("x-request-id", requestId);
    // Forwarding headers are trusted from mesh members only; a plaintext caller's are not passed on as facts.
    if (peer === undefined) headers.delete("x-forwarded-for");
    setForwardedHeaders(headers, undefined, peer === undefined ? "http" : "https", peer !== undefined);
    // The app gets a traceparent naming this inbound span; it passes it on to continue the trace (deploy/apps/web.ts).
    const trace = propagateTrace(headers, rate());
    // Body size (declared or chunked) is enforced by the listener's parser, before and while it streams.
    const appReq = upstreamRequest(req, headers, url.origin, canonical.path, url.pathname, url.search);
    const ctx = requestContext(requestId, req.signal);
    ctx.peer = peer?.spiffeId;
    if (trace !== undefined) ctx.trace = trace;
    let response: Response;
    try {
      response = cleanResponse(await chain(appReq, ctx), requestId);
    } catch (err) {
      response = responseForError(err, requestId);
    }
    return { response, requestId, route: undefined, ctx, trace };
  };

  return async (req, peer, target) => {
    const startedAt = performance.now();
    const r = await handle(req, peer, target, requestIdOf(req.headers));
    if (opts.observe.wantsRequests) {
      if (r.ctx === undefined) r.trace = traceHop(req.headers, rate()); // refused before the app: read only to record it
      emitRequest(opts.observe, "inbound", req, target, r, startedAt, peer?.spiffeId);
    }
    return r.response;
  };
}
