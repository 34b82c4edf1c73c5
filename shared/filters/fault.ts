// Fault injection: delays and/or aborts a share of requests before the upstream (or, on an inbound, the app) is
// contacted. Each request rolls its own dice; what was injected is noted on the context for the access log and metrics.
import type { Filter, Handler, RequestContext } from "../types.ts";
import { errorResponse, resetResponse } from "../http/errors.ts";
import { sleep } from "../discovery/pacing.ts";
import type { HeaderMap } from "../http/field-list.ts";

/** A fault ready for the request path: rates as 0..1, the `when` conditions as one predicate (undefined: always). */
export type CompiledFault = {
  readonly delayMs: number;
  readonly delayRate: number;
  readonly abort: { readonly status: number } | { readonly reset: true } | undefined;
  readonly abortRate: number;
  /** Header conditions; caller and instance conditions are settled where the fault is built (see compileFault). */
  readonly headers: ((headers: HeaderMap) => boolean) | undefined;
  /** SPIFFE ids a verified caller must have (inbound faults with `from`); undefined: any caller. */
  readonly from: ReadonlySet<string> | undefined;
};

export type FaultDeps = {
  readonly random?: () => number;
  /** The destination cluster (caller-side faults): named on the context so an abort's metrics and log say where it was going. */
  readonly cluster?: string;
};

/** Whether this request is one the fault targets: header conditions, then (inbound) the verified caller. */
function targeted(f: CompiledFault, headers: HeaderMap, peer: string | undefined): boolean {
  if (f.headers !== undefined && !f.headers(headers)) return false;
  if (f.from !== undefined && (peer === undefined || !f.from.has(peer))) return false;
  return true;
}

/**
 * Whether the fault might inject into a request with these headers (before its dice): the relay hands such requests
 * to the full path, whose filter rolls them once; every other request the fault leaves alone.
 */
export function mayInject(f: CompiledFault, headers: HeaderMap, peer: string | undefined): boolean {
  return (f.delayRate > 0 || (f.abort !== undefined && f.abortRate > 0)) && targeted(f, headers, peer);
}

export function faultFilter(f: CompiledFault, deps: FaultDeps = {}): Filter {
  const random = deps.random ?? Math.random;
  // Not async: a request the fault leaves alone is handed on without a promise layer of its own (it runs per request).
  return (next) => (req, ctx) => {
    if (!targeted(f, req.headers, ctx.peer)) return next(req, ctx);
    // Envoy rolls delay and abort independently: a request may be delayed and then aborted.
    const delayed = f.delayRate > 0 && random() < f.delayRate;
    const aborted = f.abort !== undefined && f.abortRate > 0 && random() < f.abortRate;
    if (!delayed && !aborted) return next(req, ctx);
    return inject(f, deps, next, req, ctx, delayed, aborted);
  };
}

async function inject(f: CompiledFault, deps: FaultDeps, next: Handler, req: Request, ctx: RequestContext, delayed: boolean, aborted: boolean): Promise<Response> {
  ctx.fault = delayed && aborted ? "delay+abort" : delayed ? "delay" : "abort";
  if (deps.cluster !== undefined) ctx.lastCluster = deps.cluster;
  if (delayed) await sleep(f.delayMs, ctx.signal); // cut short when the caller gives up: nothing to wait for
  if (aborted) {
    await req.body?.cancel().catch(() => {}); // the upstream will never read it
    if ("reset" in f.abort!) return resetResponse(ctx.requestId);
    return errorResponse("fault-abort", ctx.requestId, "fault injected", f.abort!.status);
  }
  return next(req, ctx);
}
