// The outbound listener on 127.0.0.1: the local app calls http://127.0.0.1:<port>/path with Host: <service> (or
// uses it as HTTP_PROXY, absolute-form), and the routing core takes it from there. Plain HTTP: it never leaves the machine.
import type { LiveSnapshot } from "../shared/build/live.ts";
import type { Observation } from "../shared/telemetry/observe.ts";
import { handleDownstream } from "../shared/proxy/downstream.ts";
import { startHttpServer } from "../runtime/bun/http-server.ts";
import { listenerLimits } from "../member/listener-limits.ts";

export type PlainListener = { port: number; inFlight(): number; stop(drainMs: number): Promise<void> };

export function startOutboundListener(opts: { port: number; live: LiveSnapshot; observe: Observation }): PlainListener {
  // Bound to 127.0.0.1, so the downstream is always a local process: no per-request address lookup.
  const local = { listener: "outbound", observe: opts.observe, clientIp: "127.0.0.1", proto: "http", trustForwarded: true } as const;
  const server = startHttpServer({
    hostname: "127.0.0.1",
    port: opts.port,
    limits: listenerLimits(opts.live.current().limits),
    async handler(req, _remote, target) {
      const snap = opts.live.current();
      return (await handleDownstream(req, snap, snap.meshRoutes, { ...local, target })).response;
    },
  });
  return {
    port: server.port,
    inFlight: () => server.inFlight(),
    stop: (drainMs) => server.close({ drainMs }),
  };
}
