// The inbound sidecar's request handler: the caller's identity comes only from the verified peer certificate;
// any identity header the caller sent is replaced before the request is forwarded to the app on loopback.
import type { PeerIdentity } from "./transport/types.ts";
import type { ResolvedLimits } from "../shared/proxy/hygiene.ts";
import { checkRequestHead, limitBody, requestIdOf, setForwardedHeaders, stripHopByHop } from "../shared/proxy/hygiene.ts";
import { canonicalizePath } from "../shared/routing/canonical-path.ts";
import { errorResponse, responseForError } from "../shared/proxy/errors.ts";
import { cleanResponse, editableHeaders, splitUrl, upstreamRequest } from "../shared/proxy/downstream.ts";
import { plainForward } from "../shared/proxy/plain-forwarder.ts";
import type { AccessLog } from "../shared/telemetry/access-log.ts";

/** Headers only the mesh may set: the verified caller identity. */
export const CLIENT_ID_HEADER = "x-mesh-client-id";

export type InboundDeps = {
  app: { address: string; port: number };
  limits: () => ResolvedLimits;
  accessLog: AccessLog | undefined;
};

export function createInboundHandler(deps: InboundDeps): (req: Request, peer: PeerIdentity) => Promise<Response> {
  const handle = async (req: Request, peer: PeerIdentity, requestId: string): Promise<Response> => {
    const limits = deps.limits();
    const url = splitUrl(req.url);
    const rejected = checkRequestHead(req, req.url.length - url.origin.length, limits);
    if (rejected !== undefined) return errorResponse(rejected.cause, requestId, rejected.message);
    const canonical = canonicalizePath(url.pathname);
    if (!canonical.ok) return errorResponse("invalid-path", requestId, canonical.reason);

    const headers = editableHeaders(req.headers);
    stripHopByHop(headers);
    headers.delete(CLIENT_ID_HEADER);
    headers.set(CLIENT_ID_HEADER, peer.spiffeId);
    headers.set("x-request-id", requestId);
    setForwardedHeaders(headers, undefined, "https", true);
    const chunkedBody = req.body !== null && !headers.has("content-length") && req.method !== "GET" && req.method !== "HEAD";
    // A body without a declared length is counted as it streams (the codec has no total to check up front).
    const appReq = chunkedBody
      ? new Request(`${url.origin}${canonical.path}${url.search}`, {
          method: req.method,
          headers,
          body: limitBody(req.body!, limits.maxBodyBytes),
          // @ts-expect-error duplex is required for streamed bodies but missing from the DOM typings
          duplex: "half",
        })
      : upstreamRequest(req, headers, url.origin, canonical.path, url.pathname, url.search);
    try {
      return cleanResponse(await plainForward(deps.app, appReq, { signal: req.signal }), requestId);
    } catch (err) {
      return responseForError(err, requestId);
    }
  };

  return async (req, peer) => {
    const startedAt = performance.now();
    const requestId = requestIdOf(req.headers);
    const res = await handle(req, peer, requestId);
    deps.accessLog?.({ listener: "inbound", method: req.method, url: req.url, status: res.status, requestId, startedAt, peer: peer.spiffeId });
    return res;
  };
}
