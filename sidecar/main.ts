// `bun run sidecar`: one per service instance. Outbound listener (app -> mesh), inbound mTLS listener
// (mesh -> app, caller identity from the peer certificate), admin listener on loopback.
import "reflect-metadata";
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { parseSidecarArgs, SIDECAR_USAGE } from "./args.ts";
import { createLogger, flushLog } from "../member/logger.ts";
import { createAccessLog } from "../shared/telemetry/access-log.ts";
import { createStdoutSink } from "../runtime/bun/log-sink.ts";
import { startMtlsServer } from "../runtime/bun/inbound-server.ts";
import { createInboundHandler } from "./inbound-handler.ts";
import { joinMesh } from "../member/join.ts";
import { startRegistration } from "../member/registration.ts";
import { startStatusReport } from "../member/status-report.ts";
import { startAppHealth } from "./app-health.ts";
import { startOutboundListener } from "./outbound-listener.ts";
import { listenerLimits } from "../member/listener-limits.ts";
import { startAdmin } from "../member/admin.ts";
import { onShutdown } from "../member/shutdown.ts";

async function main(): Promise<void> {
  let args;
  try {
    const argv = process.argv.slice(2);
    const fileFlag = argv.indexOf("--sidecar-config");
    const filePath = fileFlag >= 0 ? argv[fileFlag + 1] : process.env.MESH_SIDECAR_CONFIG;
    const file = filePath === undefined ? {} : (parseYaml(readFileSync(filePath, "utf8")) as Record<string, unknown> | null) ?? {};
    const parsed = parseSidecarArgs(argv, process.env, file);
    if (parsed === "help") {
      console.log(SIDECAR_USAGE);
      return;
    }
    args = parsed;
  } catch (err) {
    console.error(`sidecar: ${err instanceof Error ? err.message : String(err)}\n${SIDECAR_USAGE}`);
    process.exit(2);
  }
  const sink = createStdoutSink();
  const log = createLogger({ service: `sidecar/${args.service}`, sink });
  const accessLog = createAccessLog(`sidecar/${args.service}`, sink, args.accessLog);

  let member;
  try {
    member = await joinMesh({ configPath: args.config, kvPrefix: args.kvPrefix, caUrl: args.ca, service: args.service, log, consul: args.consul });
  } catch (err) {
    log.fatal({}, err instanceof Error ? err.message : String(err));
    flushLog(log);
    process.exit(1);
  }
  const { spiffeId, trustDomain, creds, client, live, discovery, source } = member;

  let draining = false;
  const appHealth = startAppHealth({ address: args.appAddress, port: args.appPort, path: args.appHealthPath, log });
  const limits = live.current().limits;
  const inbound = await startMtlsServer({
    hostname: args.inboundAddress,
    port: args.inboundPort,
    credentials: creds.current,
    trustDomain,
    limits: listenerLimits(limits),
    handler: createInboundHandler({ app: { address: args.appAddress, port: args.appPort }, client: member.plainClient, limits: () => live.current().limits, accessLog }),
    onRefused: (reason) => log.warn({ reason }, "inbound connection refused"),
  });
  const outbound = startOutboundListener({ port: args.outboundPort, live, accessLog });
  const admin = startAdmin({
    port: args.adminPort,
    live,
    ready: () => !draining && appHealth.healthy(),
    discovery: discovery === undefined ? undefined : () => ({ source: "consul", consul: args.consul, services: discovery.status() }),
    info: () => ({ service: args.service, instance: args.instance, spiffeId, inboundPort: inbound.port, outboundPort: outbound.port, certNotAfter: creds.notAfter().toISOString(), inFlight: { inbound: inbound.inFlight(), outbound: outbound.inFlight() }, draining }),
  });

  // Registered last: Consul sends callers here only once every listener is up.
  await appHealth.first;
  const registration = args.consul === undefined ? undefined : await startRegistration({
    initiallyPassing: () => !draining && appHealth.healthy(),
    consul: args.consul, token: process.env.CONSUL_HTTP_TOKEN, id: args.instance, service: args.service,
    address: args.advertiseAddress, port: inbound.port, adminPort: admin.port, tags: args.tags, meta: { kind: "sidecar", ...args.meta }, log,
  });

  const statusReport = args.consul === undefined ? undefined : startStatusReport({ consul: args.consul, token: process.env.CONSUL_HTTP_TOKEN, id: args.instance, live, log });

  onShutdown(log, async () => {
    // Leave rotation first, give peers time to see it, then drain what is still in flight, then deregister.
    draining = true;
    if (registration !== undefined) {
      await registration.leaveRotation();
      await Bun.sleep(args.drainDelayMs);
    }
    const drainMs = live.current().limits.drainTimeoutMs;
    await Promise.all([inbound.close({ drainMs }), outbound.stop(drainMs)]);
    await registration?.deregister();
    await statusReport?.remove();
    appHealth.stop();
    discovery?.stop();
    live.stop();
    source.stop();
    client.close();
    member.plainClient.close();
    creds.stop();
    admin.stop();
  });

  log.info(
    { service: args.service, instance: args.instance, spiffeId, inboundPort: inbound.port, outboundPort: outbound.port, adminPort: admin.port, appPort: args.appPort },
    "ready",
  );
  flushLog(log);
}

main().catch((err) => {
  console.error(`sidecar: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exit(1);
});
