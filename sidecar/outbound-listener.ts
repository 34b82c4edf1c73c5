// The outbound listener on 127.0.0.1: the local app calls http://127.0.0.1:<port>/path with Host: <service> (or
// uses it as HTTP_PROXY, absolute-form), and the routing core takes it from there. Plain HTTP: it never leaves the machine.
import type { LiveSnapshot } from "../shared/build/live.ts";
import type { Observation } from "../shared/telemetry/observe.ts";
import { handleDownstream } from "../shared/proxy/downstream.ts";
import { startHttpServer } from "../runtime/bun/http-server.ts";
import { listenerLimits } from "../member/listener-limits.ts";
import { createOutboundPlanner } from "../shared/proxy/outbound-relay-plan.ts";
import { outboundRelayStarter } from "../runtime/bun/outbound-relay.ts";
import { createUpstreamPool } from "../runtime/bun/upstream-pool.ts";
import type { TlsMaterial } from "../runtime/ports.ts";

export type PlainListener = { port: number; inFlight(): number; stop(drainMs: number): Promise<void> };

/** `credentials`: the member's, for the fast path's own mTLS connections; without them every request takes the full path. */
export function startOutboundListener(opts: { port: number; live: LiveSnapshot; observe: Observation; credentials?: () => TlsMaterial }): PlainListener {
  // Bound to 127.0.0.1, so the downstream is always a local process: no per-request address lookup.
  const local = { listener: "outbound", observe: opts.observe, clientIp: "127.0.0.1", proto: "http", trustForwarded: true } as const;
  const pool = opts.credentials === undefined ? undefined : createUpstreamPool(opts.credentials);
  const starter = pool === undefined ? undefined : outboundRelayStarter({
    planner: createOutboundPlanner({ snapshot: () => opts.live.current(), table: (s) => s.meshRoutes, proto: local.proto, trustForwarded: local.trustForwarded }),
    pool,
    observe: opts.observe,
    listener: local.listener,
  }, local.clientIp);
  const server = startHttpServer({
    hostname: "127.0.0.1",
    port: opts.port,
    limits: listenerLimits(opts.live.current().limits),
    async handler(req, _remote, target) {
      const snap = opts.live.current();
      return (await handleDownstream(req, snap, snap.meshRoutes, { ...local, target })).response;
    },
    relay: starter === undefined ? undefined : () => starter,
  });
  return {
    port: server.port,
    inFlight: () => server.inFlight(),
    stop: async (drainMs) => {
      await server.close({ drainMs });
      pool?.close();
    },
  };
}
