// The gateway's Hono app: edge middleware first, then the shared routing core with the gateway's route table.
// The snapshot is read once per request and held until the response, so reloads never change a request mid-flight.
import { Hono } from "hono";
import type { LiveSnapshot } from "../shared/build/live.ts";
import { handleDownstream } from "../shared/proxy/downstream.ts";
import type { AccessLog } from "../shared/telemetry/access-log.ts";

export type GatewayAppDeps = {
  live: LiveSnapshot;
  listener: string;
  proto: "http" | "https";
  accessLog: AccessLog | undefined;
};

/** What the listener hands Hono per request (Hono's `c.env`): the downstream's address for X-Forwarded-For. */
export type GatewayEnv = { remoteAddress?: string; target?: string };

export function createGatewayApp(deps: GatewayAppDeps): Hono<{ Bindings: GatewayEnv }> {
  const app = new Hono<{ Bindings: GatewayEnv }>();
  app.all("*", async (c) => {
    const startedAt = performance.now();
    const snap = deps.live.current();
    const req = c.req.raw;
    const r = await handleDownstream(req, snap, snap.gatewayRoutes, { clientIp: c.env?.remoteAddress, proto: deps.proto, trustForwarded: false, target: c.env?.target });
    deps.accessLog?.({ listener: deps.listener, method: req.method, url: req.url, status: r.response.status, requestId: r.requestId, startedAt, route: r.route, ctx: r.ctx });
    return r.response;
  });
  return app;
}
