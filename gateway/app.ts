// The gateway's Hono app: edge middleware first, then the shared routing core with the gateway's route table.
// The snapshot is read once per request and held until the response, so reloads never change a request mid-flight.
import { Hono } from "hono";
import type { LiveSnapshot } from "../shared/build/live.ts";
import type { Observation } from "../shared/telemetry/observe.ts";
import { handleDownstream } from "../shared/proxy/downstream.ts";

export type GatewayAppDeps = {
  live: LiveSnapshot;
  /** The listener's name from the config; events say "gateway/<name>". */
  listener: string;
  proto: "http" | "https";
  observe: Observation;
};

/** What the listener hands Hono per request (Hono's `c.env`): the downstream's address and the raw target. */
export type GatewayEnv = { remoteAddress?: string; target?: string };

export function createGatewayApp(deps: GatewayAppDeps): Hono<{ Bindings: GatewayEnv }> {
  const app = new Hono<{ Bindings: GatewayEnv }>();
  const listener = `gateway/${deps.listener}`;
  app.all("*", async (c) => {
    const snap = deps.live.current();
    const info = { listener, observe: deps.observe, clientIp: c.env?.remoteAddress, proto: deps.proto, trustForwarded: false, target: c.env?.target };
    return (await handleDownstream(c.req.raw, snap, snap.gatewayRoutes, info)).response;
  });
  return app;
}
