// The gateway's Hono app: edge middleware first, then the shared routing core with the gateway's route table.
// The snapshot is read once per request and held until the response, so reloads never change a request mid-flight.
import { Hono } from "hono";
import { getConnInfo } from "hono/bun";
import type { LiveSnapshot } from "../shared/config/live.ts";
import { handleDownstream } from "../shared/proxy/downstream.ts";
import type { AccessLog } from "../shared/telemetry/access-log.ts";
import type { DrainTracker } from "../sidecar/drain.ts";

export type GatewayAppDeps = {
  live: LiveSnapshot;
  listener: string;
  proto: "http" | "https";
  accessLog: AccessLog | undefined;
  drain: DrainTracker;
};

export function createGatewayApp(deps: GatewayAppDeps): Hono {
  const app = new Hono();
  app.all("*", async (c) => {
    const done = deps.drain.begin();
    const startedAt = performance.now();
    try {
      const snap = deps.live.current();
      let clientIp: string | undefined;
      try {
        clientIp = getConnInfo(c).remote.address;
      } catch {
        clientIp = undefined; // not served by Bun.serve (e.g. app.request() in tests)
      }
      const req = c.req.raw;
      const r = await handleDownstream(req, snap, snap.gatewayRoutes, { clientIp, proto: deps.proto, trustForwarded: false });
      deps.accessLog?.({ listener: deps.listener, method: req.method, url: req.url, status: r.response.status, requestId: r.requestId, startedAt, route: r.route, ctx: r.ctx });
      return r.response;
    } finally {
      done();
    }
  });
  return app;
}
