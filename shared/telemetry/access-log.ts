// One access-log line per request and listener, with the fields an operator greps for first.
// Logged after the response head is sent; the body may still be streaming.
import type { Logger } from "./logger.ts";
import type { RequestContext } from "../types.ts";

export type AccessEntry = {
  listener: string;
  method: string;
  url: string;
  status: number;
  requestId: string;
  startedAt: number;
  route?: string | undefined;
  ctx?: RequestContext | undefined;
  peer?: string | undefined;
};

export function logAccess(log: Logger, e: AccessEntry): void {
  const path = e.url.slice(e.url.indexOf("/", 8));
  log.info(
    {
      listener: e.listener,
      method: e.method,
      path,
      status: e.status,
      ms: Math.round((performance.now() - e.startedAt) * 100) / 100,
      requestId: e.requestId,
      route: e.route,
      upstream: e.ctx?.lastEndpoint?.id,
      // The retry filter counts tries; a route without one made at most a single try.
      attempts: e.ctx === undefined ? undefined : e.ctx.attempts || (e.ctx.lastEndpoint ? 1 : 0),
      peer: e.peer,
    },
    "access",
  );
}
