// `bun run gateway`: the ingress gateway. Hono on Bun.serve per configured listener (HTTP, or HTTPS with a
// certificate), routing through the shared core to inbound sidecars over mTLS with the gateway's own identity.
import "reflect-metadata";
import { parseGatewayArgs, GATEWAY_USAGE, type GatewayArgs } from "./args.ts";
import { createGatewayApp } from "./app.ts";
import { joinMesh } from "../member/join.ts";
import { startRegistration } from "../member/registration.ts";
import { startStatusReport } from "../member/status-report.ts";
import { createLogger, flushLog } from "../member/logger.ts";
import { createAccessLog } from "../shared/telemetry/access-log.ts";
import { createStdoutSink } from "../runtime/bun/log-sink.ts";
import { startHttpServer } from "../runtime/bun/http-server.ts";
import { listenerLimits } from "../member/listener-limits.ts";
import { readFileSync } from "node:fs";
import { startAdmin } from "../member/admin.ts";
import { onShutdown } from "../member/shutdown.ts";

async function main(): Promise<void> {
  let args: GatewayArgs;
  try {
    const parsed = parseGatewayArgs(process.argv.slice(2), process.env);
    if (parsed === "help") return void console.log(GATEWAY_USAGE);
    args = parsed;
  } catch (err) {
    console.error(`gateway: ${err instanceof Error ? err.message : String(err)}\n${GATEWAY_USAGE}`);
    process.exit(2);
  }
  const sink = createStdoutSink();
  const log = createLogger({ service: "gateway", sink });
  let name = "gateway";
  let member;
  try {
    member = await joinMesh({
      configPath: args.config, kvPrefix: args.kvPrefix, caUrl: args.ca, log, consul: args.consul,
      service: (first) => {
        if (first.gateway === undefined) throw new Error("gateway: missing; the gateway needs listeners and routes in its config");
        name = first.gateway.name ?? "gateway";
        return name;
      },
    });
  } catch (err) {
    log.fatal({}, err instanceof Error ? err.message : String(err));
    flushLog(log);
    process.exit(1);
  }
  const { spiffeId, creds, client, live, discovery, source } = member;
  const accessLog = createAccessLog(name, sink, args.accessLog);

  // Listeners are bound once at start; route and policy changes apply live, listener changes need a restart.
  const snap = live.current();
  const servers = snap.gatewayListeners.map((l) => {
    const proto = l.tls === undefined ? "http" : "https";
    const app = createGatewayApp({ live, listener: l.name, proto, accessLog });
    const server = startHttpServer({
      hostname: l.address ?? "0.0.0.0",
      port: l.port,
      limits: listenerLimits(snap.limits),
      tls: l.tls === undefined ? undefined : { cert: readFileSync(l.tls.cert, "utf8"), key: readFileSync(l.tls.key, "utf8") },
      handler: async (req, remoteAddress, target) => app.fetch(req, { remoteAddress, target }),
    });
    return { name: l.name, proto, server };
  });

  let draining = false;
  const admin = startAdmin({
    port: args.adminPort,
    live,
    ready: () => !draining,
    discovery: discovery === undefined ? undefined : () => ({ source: "consul", consul: args.consul, services: discovery.status() }),
    info: () => ({ gateway: name, spiffeId, listeners: servers.map((s) => ({ name: s.name, proto: s.proto, port: s.server.port })), inFlight: servers.reduce((n, s) => n + s.server.inFlight(), 0), draining }),
  });

  // The gateway registers too (address = its first listener), so `meshctl status` and health checks see it.
  const first = servers[0]!;
  const registration = args.consul === undefined ? undefined : await startRegistration({
    consul: args.consul, token: process.env.CONSUL_HTTP_TOKEN, id: `${name}-${first.server.port}`, service: name,
    address: first.server.hostname === "0.0.0.0" ? "127.0.0.1" : (first.server.hostname ?? "127.0.0.1"), port: first.server.port ?? 0, adminPort: admin.port,
    tags: ["gateway"], meta: { kind: "gateway" }, log, initiallyPassing: () => !draining,
  });

  const statusReport = args.consul === undefined ? undefined : startStatusReport({ consul: args.consul, token: process.env.CONSUL_HTTP_TOKEN, id: `${name}-${first.server.port}`, live, log });

  onShutdown(log, async () => {
    draining = true;
    await registration?.leaveRotation();
    const drainMs = live.current().limits.drainTimeoutMs;
    await Promise.all(servers.map((s) => s.server.close({ drainMs })));
    await registration?.deregister();
    await statusReport?.remove();
    discovery?.stop();
    live.stop();
    source.stop();
    client.close();
    member.plainClient.close();
    creds.stop();
    admin.stop();
  });

  log.info({ spiffeId, listeners: servers.map((s) => `${s.proto}://${s.server.hostname}:${s.server.port}`), adminPort: admin.port }, "ready");
  flushLog(log);
}

main().catch((err) => {
  console.error(`gateway: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exit(1);
});
