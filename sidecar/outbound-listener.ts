// The outbound listener on 127.0.0.1: the local app calls http://127.0.0.1:<port>/path with Host: <service>,
// and the routing core takes it from there. Plain HTTP because it never leaves the machine.
import type { LiveSnapshot } from "../shared/config/live.ts";
import { handleDownstream } from "../shared/proxy/downstream.ts";
import type { AccessLog } from "../shared/telemetry/access-log.ts";
import { createDrainTracker, type DrainTracker } from "./drain.ts";

const LOCAL_APP = { clientIp: "127.0.0.1", proto: "http", trustForwarded: true } as const;

export type PlainListener = { port: number; drain: DrainTracker; stop(drainMs: number): Promise<void> };

export function startOutboundListener(opts: { port: number; live: LiveSnapshot; accessLog: AccessLog | undefined }): PlainListener {
  const accessLog = opts.accessLog;
  const limits = opts.live.current().limits;
  const drain = createDrainTracker();
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: opts.port,
    maxRequestBodySize: limits.maxBodyBytes,
    idleTimeout: Math.min(255, Math.ceil(limits.idleTimeoutMs / 1000)),
    async fetch(req) {
      const done = drain.begin();
      const startedAt = performance.now();
      try {
        const snap = opts.live.current();
        // Bound to 127.0.0.1, so the downstream is always a local process: no per-request address lookup.
        const r = await handleDownstream(req, snap, snap.meshRoutes, LOCAL_APP);
        accessLog?.({ listener: "outbound", method: req.method, url: req.url, status: r.response.status, requestId: r.requestId, startedAt, route: r.route, ctx: r.ctx });
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
