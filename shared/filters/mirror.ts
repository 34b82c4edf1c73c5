// Traffic mirroring: a share of a route's requests is also sent to another destination, fire and forget. The copy's
// answer, latency and failure never reach the caller; bodies are mirrored only up to a bound (larger ones are not mirrored).
import type { Filter, Handler, RequestContext } from "../types.ts";
import { copyRequest } from "./request-copy.ts";

export type MirrorOptions = {
  /** 0..1: the share of requests mirrored. */
  readonly rate: number;
  readonly maxBodyBytes: number;
  /** The mirror destination's chain (its cluster, under its own deadline). */
  readonly send: Handler;
  readonly timeoutMs: number;
  readonly random?: () => number;
  /** Called for each request picked for mirroring: "sent", or why it was not ("body-too-large"). */
  readonly count?: (result: "sent" | "body-too-large") => void;
};

const NO_BODY = new Set(["GET", "HEAD", "OPTIONS", "DELETE", "TRACE"]);

/** "api:8080" → "api-shadow:8080", "[::1]:80" → "[::1]-shadow:80": the suffix goes on the host, never after the port. */
export function shadowHost(host: string): string {
  const close = host.lastIndexOf("]");
  const colon = host.lastIndexOf(":");
  if (colon > close && /^\d+$/.test(host.slice(colon + 1))) return `${host.slice(0, colon)}-shadow${host.slice(colon)}`;
  return `${host}-shadow`;
}

/** Envoy's convention: the mirror sees the Host with "-shadow" appended, so it can tell copies from real traffic. */
function shadowOf(req: Request, body: ArrayBuffer | null): Request {
  const headers = new Headers(req.headers);
  headers.set("host", shadowHost(headers.get("host") ?? new URL(req.url).host));
  return copyRequest(req, { headers, body });
}

function fire(o: MirrorOptions, req: Request, ctx: RequestContext): void {
  // Its own signal: the copy must not be cut short by the caller leaving, nor outlive its deadline.
  const shadowCtx: RequestContext = { requestId: ctx.requestId, startedAt: performance.now(), signal: AbortSignal.timeout(o.timeoutMs), tried: new Set(), attempts: 0 };
  if (ctx.observe !== undefined) shadowCtx.observe = ctx.observe;
  let sent: Promise<Response>;
  try {
    sent = o.send(req, shadowCtx);
  } catch (err) {
    sent = Promise.reject(err); // a handler that throws at once must not reach the caller either
  }
  sent.then(
    (res) => void res.body?.cancel().catch(() => {}),
    () => {}, // a failing mirror is the mirror's problem; its attempt events already count it
  );
}

export function mirrorFilter(o: MirrorOptions): Filter {
  const random = o.random ?? Math.random;
  // Not async: a request not picked (or without a body) is handed on without a promise layer of its own.
  return (next) => (req, ctx) => {
    if (o.rate < 1 && random() >= o.rate) return next(req, ctx);
    if (req.body === null || NO_BODY.has(req.method)) {
      o.count?.("sent");
      fire(o, shadowOf(req, null), ctx);
      return next(req, ctx);
    }
    return mirrorWithBody(o, next, req, ctx);
  };
}

/** A body is read once for both copies, so only a declared length within the bound is mirrored. */
async function mirrorWithBody(o: MirrorOptions, next: Handler, req: Request, ctx: RequestContext): Promise<Response> {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (!(declared <= o.maxBodyBytes)) {
    o.count?.("body-too-large");
    return next(req, ctx);
  }
  const bytes = await req.arrayBuffer();
  o.count?.("sent");
  fire(o, shadowOf(req, bytes), ctx);
  return next(copyRequest(req, { body: bytes }), ctx);
}
