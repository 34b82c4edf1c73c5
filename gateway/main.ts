// `bun run gateway`: the ingress gateway on Bun. The wiring is runtime-neutral (assemble.ts); this entry point picks
// the Bun adapter and our strict HTTP/1.1 listener (gateway/main-deno.ts is the Deno one).
import { runGateway } from "./assemble.ts";
import { bunRuntime } from "../runtime/bun/ports.ts";
import { startHttpServer } from "../runtime/bun/http-server.ts";
import { createUpstreamPool } from "../runtime/bun/upstream-pool.ts";
import { outboundRelayStarter } from "../runtime/bun/outbound-relay.ts";
import type { GatewayListenOptions } from "./assemble.ts";

/** One listener: our HTTP/1.1 server, with the fast path in front of Hono when it is on. */
function listen(o: GatewayListenOptions) {
  const fast = o.fast;
  const pool = fast === undefined ? undefined : createUpstreamPool(fast.credentials);
  const server = startHttpServer({
    ...o,
    handler: (req, remote, target) => o.handler(req, remote, target),
    relay: fast === undefined || pool === undefined ? undefined : (remote) => outboundRelayStarter({ planner: fast.planner, pool, observe: fast.observe, listener: fast.listener }, remote),
  });
  return {
    ...server,
    hostname: server.hostname,
    port: server.port,
    inFlight: () => server.inFlight(),
    async close(opts: { drainMs: number }) {
      await server.close(opts);
      pool?.close();
    },
  };
}

runGateway({ runtime: bunRuntime, listen }).catch((err) => {
  console.error(`gateway: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exit(1);
});
