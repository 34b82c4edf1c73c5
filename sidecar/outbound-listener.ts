// The outbound listener on 127.0.0.1: the local app calls http://127.0.0.1:<port>/path with Host: <service>,
// and the routing core takes it from there. Plain HTTP because it never leaves the machine.
import type { LiveSnapshot } from "../shared/config/live.ts";
import type { Logger } from "../shared/telemetry/logger.ts";
import { handleDownstream } from "../shared/proxy/downstream.ts";
import { logAccess } from "../shared/telemetry/access-log.ts";
import { createDrainTracker, type DrainTracker } from "./drain.ts";

export type PlainListener = { port: number; drain: DrainTracker; stop(drainMs: number): Promise<void> };

export function startOutboundListener(opts: { port: number; live: LiveSnapshot; log: Logger; accessLog: boolean }): PlainListener {
  const limits = opts.live.current().limits;
  const drain = createDrainTracker();
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: opts.port,
    maxRequestBodySize: limits.maxBodyBytes,
    idleTimeout: Math.min(255, Math.ceil(limits.idleTimeoutMs / 1000)),
    async fetch(req, srv) {
      const done = drain.begin();
      const startedAt = performance.now();
      try {
        const snap = opts.live.current();
        const r = await handleDownstream(req, snap, snap.meshRoutes, { clientIp: srv.requestIP(req)?.address, proto: "http", trustForwarded: true });
        if (opts.accessLog) logAccess(opts.log, { listener: "outbound", method: req.method, url: req.url, status: r.response.status, requestId: r.requestId, startedAt, route: r.route, ctx: r.ctx });
        return r.response;
      } finally {
        done();
      }
    },
  });
  return {
    port: server.port ?? opts.port,
    drain,
    async stop(drainMs) {
      void server.stop(false); // stop accepting; in-flight requests continue
      await drain.idle(drainMs);
      await server.stop(true);
    },
  };
}
