// The gateway's assembly without its runtime: flags, joining the mesh, one Hono app per configured listener, and
// the member's admin and shutdown. Each runtime's entry point (main-deno.ts; main.ts can follow) passes its listener.
import { readFileSync } from "node:fs";
import type { InboundLimits, RuntimePorts } from "../runtime/ports.ts";
import { parseGatewayArgs, GATEWAY_USAGE, type GatewayArgs } from "./args.ts";
import { createGatewayApp } from "./app.ts";
import { createOutboundPlanner, type OutboundPlanner } from "../shared/proxy/outbound-relay-plan.ts";
import type { Observation } from "../shared/telemetry/observe.ts";
import type { TlsMaterial } from "../runtime/ports.ts";
import { EXIT, versionText } from "../member/cli.ts";
import { listenerLimits } from "../member/listener-limits.ts";
import { serveMember, startMember } from "../member/run.ts";
import { createCollector } from "../console/collector.ts";
import { CONSOLE_PATHS, consoleRoute } from "../console/routes.ts";

export type GatewayListenOptions = {
  hostname: string;
  port: number;
  limits: InboundLimits;
  tls: { cert: string; key: string } | undefined;
  /** `target`: the raw request target when the listener has it (the path policy then sees what was sent). */
  handler: (req: Request, remoteAddress: string, target?: string) => Promise<Response>;
  /**
   * The fast path a runtime may offer before `handler`: requests to routes with one destination and no filter but a
   * timeout, relayed with the member's credentials. Hono and the full core see every other request.
   */
  fast: { planner: OutboundPlanner; observe: Observation; listener: string; credentials: () => TlsMaterial } | undefined;
};
export type GatewayListener = { readonly hostname: string; readonly port: number; inFlight(): number; close(opts: { drainMs: number }): Promise<void> };

function parse(): GatewayArgs | undefined {
  try {
    const parsed = parseGatewayArgs(process.argv.slice(2), process.env);
    if (parsed === "help" || parsed === "version") {
      console.log(parsed === "help" ? GATEWAY_USAGE : versionText());
      return undefined;
    }
    return parsed;
  } catch (err) {
    console.error(`gateway: ${err instanceof Error ? err.message : String(err)}\n${GATEWAY_USAGE}`);
    process.exit(EXIT.usage);
  }
}

export async function runGateway(o: { runtime: RuntimePorts; listen: (opts: GatewayListenOptions) => GatewayListener }): Promise<void> {
  const args = parse();
  if (args === undefined) return;
  const { runtime } = o;
  let name = "gateway";
  const { member, log, observe, metrics } = await startMember({
    runtime, logName: "gateway", kind: "gateway", args,
    service: (first) => {
      if (first.gateway === undefined) throw new Error("gateway: missing; the gateway needs listeners and routes in its config");
      name = first.gateway.name ?? "gateway";
      return name;
    },
  });
  const { live } = member;

  // Listeners are bound once at start; route and policy changes apply live, listener changes need a restart.
  const snap = live.current();
  const servers = snap.gatewayListeners.map((l) => {
    const proto = l.tls === undefined ? "http" : "https";
    const app = createGatewayApp({ live, listener: l.name, proto, observe });
    const server = o.listen({
      hostname: l.address ?? "0.0.0.0",
      port: l.port,
      limits: listenerLimits(snap.limits),
      tls: l.tls === undefined ? undefined : { cert: readFileSync(l.tls.cert, "utf8"), key: readFileSync(l.tls.key, "utf8") },
      handler: async (req, remoteAddress, target) => app.fetch(req, { remoteAddress, target }),
      fast: !args.fastPath ? undefined : {
        planner: createOutboundPlanner({ snapshot: () => live.current(), table: (s) => s.gatewayRoutes, proto, trustForwarded: false }),
        observe,
        listener: `gateway/${l.name}`,
        credentials: member.creds.current,
      },
    });
    return { name: l.name, proto, server };
  });

  // The gateway registers too (address = its first listener), so `meshctl status` and health checks see it.
  const first = servers[0]!.server;
  const id = `${name}-${first.port}`;
  // The gateway's own figures come in process; a console nobody opens never scrapes (see console/collector.ts).
  const collector = !args.console ? undefined : createCollector({
    self: { id, service: name, status: () => live.status(), render: metrics?.render },
    staticTargets: args.consoleTargets,
    consul: args.consul === undefined ? undefined : { addr: args.consul, token: process.env.CONSUL_HTTP_TOKEN },
  });
  await serveMember({
    runtime, member, log, args, metrics,
    inFlight: () => ({ gateway: servers.reduce((n, s) => n + s.server.inFlight(), 0) }),
    listeners: servers.map((s) => ({ close: (drainMs: number) => s.server.close({ drainMs }) })),
    info: (draining) => ({ gateway: name, runtime: runtime.name, spiffeId: member.spiffeId, listeners: servers.map((s) => ({ name: s.name, proto: s.proto, port: s.server.port })), inFlight: servers.reduce((n, s) => n + s.server.inFlight(), 0), draining }),
    adminRoutes: collector === undefined ? undefined : { paths: CONSOLE_PATHS, handle: consoleRoute(collector) },
    onStopped: () => collector?.stop(),
    registration: { id, service: name, address: first.hostname === "0.0.0.0" ? "127.0.0.1" : first.hostname, port: first.port, tags: ["gateway"], meta: { kind: "gateway" }, drainDelayMs: 0 },
    readyFields: { runtime: runtime.name, listeners: servers.map((s) => `${s.proto}://${s.server.hostname}:${s.server.port}`) },
  });
}
