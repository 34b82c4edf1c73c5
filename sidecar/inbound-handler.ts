// The inbound sidecar's request handler: the caller's identity comes only from the verified peer certificate;
// any identity header the caller sent is replaced before the request is forwarded to the app on loopback.
import type { PeerIdentity } from "../runtime/ports.ts";
import type { ResolvedLimits } from "../shared/proxy/hygiene.ts";
import { checkRequestHead, requestIdOf, setForwardedHeaders, stripHopByHop } from "../shared/proxy/hygiene.ts";
import { canonicalizePath } from "../shared/http/canonical-path.ts";
import { errorResponse, responseForError } from "../shared/proxy/errors.ts";
import { cleanResponse, editableHeaders, splitTarget, splitUrl, upstreamRequest } from "../shared/proxy/downstream.ts";
import type { PlainClient } from "../runtime/ports.ts";
import { ABSENT_HEADER } from "../runtime/bun/mesh-client.ts";
import type { AccessLog } from "../shared/telemetry/access-log.ts";

/** Headers only the mesh may set: the verified caller identity. */
export const CLIENT_ID_HEADER = "x-mesh-client-id";

export type InboundDeps = {
  app: { address: string; port: number };
  /** Plaintext HTTP/1.1 to the app: sends exactly the headers the caller sent (no invented User-Agent or Accept). */
  client: PlainClient;
  limits: () => ResolvedLimits;
  accessLog: AccessLog | undefined;
};

/** Removes what the calling member's HTTP client added on its own (see ABSENT_HEADER in the mesh client). */
function dropAbsent(headers: Headers): void {
  const absent = headers.get(ABSENT_HEADER);
  if (absent === null) return;
  headers.delete(ABSENT_HEADER);
  for (const t of absent.split(",")) {
    const name = t.trim().toLowerCase();
    if (name === "user-agent" || name === "accept") headers.delete(name);
  }
}

export function createInboundHandler(deps: InboundDeps): (req: Request, peer: PeerIdentity, target: string) => Promise<Response> {
  const handle = async (req: Request, peer: PeerIdentity, target: string, requestId: string): Promise<Response> => {
    const limits = deps.limits();
    const url = splitUrl(req.url);
    const rejected = checkRequestHead(req, req.url.length - url.origin.length, limits);
    if (rejected !== undefined) return errorResponse(rejected.cause, requestId, rejected.message);
    // The raw target, not req.url: URL parsing has already resolved any dot-segments the policy must refuse.
    const received = splitTarget(target);
    const canonical = canonicalizePath(received.pathname, received.search);
    if (!canonical.ok) return errorResponse("invalid-path", requestId, canonical.reason);

    const headers = editableHeaders(req.headers);
    stripHopByHop(headers);
    dropAbsent(headers);
    headers.delete(CLIENT_ID_HEADER);
    headers.set(CLIENT_ID_HEADER, peer.spiffeId);
    headers.set("x-request-id", requestId);
    setForwardedHeaders(headers, undefined, "https", true);
    // Body size (declared or chunked) is enforced by the listener's parser, before and while it streams.
    const appReq = upstreamRequest(req, headers, url.origin, canonical.path, url.pathname, url.search);
    try {
      return cleanResponse(await deps.client.send(deps.app, appReq, { signal: req.signal }), requestId);
    } catch (err) {
      return responseForError(err, requestId);
    }
  };

  return async (req, peer, target) => {
    const startedAt = performance.now();
    const requestId = requestIdOf(req.headers);
    const res = await handle(req, peer, target, requestId);
    deps.accessLog?.({ listener: "inbound", method: req.method, url: req.url, status: res.status, requestId, startedAt, peer: peer.spiffeId });
    return res;
  };
}
