// The outbound listener on 127.0.0.1: the local app calls http://127.0.0.1:<port>/path with Host: <service> (or
// uses it as HTTP_PROXY, absolute-form), and the routing core takes it from there. Plain HTTP: it never leaves the machine.
import type { LiveSnapshot } from "../shared/build/live.ts";
import { handleDownstream } from "../shared/proxy/downstream.ts";
import type { AccessLog } from "../shared/telemetry/access-log.ts";
import { startHttpServer } from "../runtime/bun/http-server.ts";
import { listenerLimits } from "../member/listener-limits.ts";

const LOCAL_APP = { clientIp: "127.0.0.1", proto: "http", trustForwarded: true } as const;

export type PlainListener = { port: number; inFlight(): number; stop(drainMs: number): Promise<void> };

export function startOutboundListener(opts: { port: number; live: LiveSnapshot; accessLog: AccessLog | undefined }): PlainListener {
  const accessLog = opts.accessLog;
  const server = startHttpServer({
    hostname: "127.0.0.1",
    port: opts.port,
    limits: listenerLimits(opts.live.current().limits),
    async handler(req, _remote, target) {
      const startedAt = performance.now();
      const snap = opts.live.current();
      // Bound to 127.0.0.1, so the downstream is always a local process: no per-request address lookup.
      const r = await handleDownstream(req, snap, snap.meshRoutes, { ...LOCAL_APP, target });
      accessLog?.({ listener: "outbound", method: req.method, url: req.url, status: r.response.status, requestId: r.requestId, startedAt, route: r.route, ctx: r.ctx });
      return r.response;
    },
  });
  return {
    port: server.port,
    inFlight: () => server.inFlight(),
    stop: (drainMs) => server.close({ drainMs }),
  };
}
