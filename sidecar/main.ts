// `bun run sidecar`: one per service instance. Outbound listener (app -> mesh), inbound mTLS listener
// (mesh -> app, caller identity from the peer certificate; plaintext too for `mtls: permissive`), admin listener on loopback.
import { readFileSync } from "node:fs";
import { readYaml } from "../shared/config/yaml-text.ts";
import { parseSidecarArgs, SIDECAR_USAGE, type SidecarArgs } from "./args.ts";
import { bunRuntime } from "../runtime/bun/ports.ts";
import { startMtlsServer } from "../runtime/bun/inbound-server.ts";
import { createInboundHandler } from "../shared/proxy/inbound.ts";
import { createRelayPlanner } from "../shared/proxy/inbound-relay-plan.ts";
import { inboundPolicyFilter } from "../shared/build/inbound-policy.ts";
import { authorizationFilter } from "../shared/filters/authorization.ts";
import { startAppHealth } from "./app-health.ts";
import { startOutboundListener } from "./outbound-listener.ts";
import { inboundL4 } from "./tcp-inbound.ts";
import { startTcpUpstreams } from "./tcp-upstreams.ts";
import { EXIT, versionText } from "../member/cli.ts";
import { listenerLimits } from "../member/listener-limits.ts";
import { serveMember, startMember } from "../member/run.ts";
import type { Snapshot } from "../shared/proxy/snapshot.ts";
import type { InboundMode, TcpTally } from "../runtime/ports.ts";

/** Only `mtls: permissive` opens the inbound port to plaintext; anything else (and an undeclared service) is strict. */
const inboundMode = (snap: Snapshot, service: string): InboundMode => (snap.services.get(service)?.mtls === "permissive" ? "permissive" : "strict");

/** The sidecar's own settings file (flags as YAML keys); an empty file is no settings. */
async function readSidecarConfig(path: string): Promise<Record<string, unknown>> {
  const read = await readYaml(readFileSync(path, "utf8"));
  if (!read.ok) throw new Error(`${path}: ${read.messages.join("; ")}`);
  return (read.data as Record<string, unknown> | null) ?? {};
}

async function parse(): Promise<SidecarArgs | undefined> {
  try {
    const argv = process.argv.slice(2);
    const fileFlag = argv.indexOf("--sidecar-config");
    const filePath = fileFlag >= 0 ? argv[fileFlag + 1] : process.env.MESH_SIDECAR_CONFIG;
    const file = filePath === undefined ? {} : await readSidecarConfig(filePath);
    const parsed = parseSidecarArgs(argv, process.env, file);
    if (parsed === "help" || parsed === "version") {
      console.log(parsed === "help" ? SIDECAR_USAGE : versionText());
      return undefined;
    }
    return parsed;
  } catch (err) {
    console.error(`sidecar: ${err instanceof Error ? err.message : String(err)}\n${SIDECAR_USAGE}`);
    process.exit(EXIT.usage);
  }
}

async function main(): Promise<void> {
  const args = await parse();
  if (args === undefined) return;
  const runtime = bunRuntime;
  const { member, log, observe, metrics } = await startMember({ runtime, logName: `sidecar/${args.service}`, kind: "sidecar", args, service: args.service, instance: args.instance });
  const { live } = member;

  const app = { address: args.appAddress, port: args.appPort };
  const appHealth = startAppHealth({ address: args.appAddress, port: args.appPort, path: args.appHealthPath, log });
  const inboundHandler = createInboundHandler({
    observe,
    limits: () => live.current().limits,
    forward: (req, signal) => member.plainClient.send(app, req, { signal }),
    // Read per request from the snapshot it holds: a policy change applies to the next request.
    filters: [
      authorizationFilter(() => live.current().authorization.get(args.service)),
      // After authorization: a denied caller takes no token; fault injection last, right before the app.
      inboundPolicyFilter(() => live.current().inbound.get(args.service)),
    ],
    // Traces that start at this inbound (callers that sent no context) are sampled at the mesh's rate.
    traceSampling: () => live.current().traceSampling,
  });
  // L4 counters (protocol: tcp): registered on first use, so a sidecar without TCP services shows none.
  const tcpTally: TcpTally | undefined = metrics === undefined ? undefined : (direction, service) => metrics.tcp()(direction, service);
  // Handshakes are the listener's own tally, read at scrape; `inbound` exists by the first scrape.
  const tls = metrics?.inboundTls(() => inbound.connectionsAccepted());
  const inbound = await startMtlsServer({
    hostname: args.inboundAddress,
    port: args.inboundPort,
    credentials: member.creds.current,
    trustDomain: member.trustDomain,
    limits: listenerLimits(live.current().limits),
    mode: inboundMode(live.current(), args.service),
    handler: inboundHandler,
    // A TCP service's connections are authorized by caller and carried to the app at L4 (decided per connection).
    l4: inboundL4({ live, service: args.service, app, log, tally: tcpTally }),
    // The fast path: requests no L7 policy acts on are relayed to the app with only their heads rewritten.
    relay: !args.inboundFastPath ? undefined : {
      planner: createRelayPlanner({
        limits: () => live.current().limits,
        authorizer: () => live.current().authorization.get(args.service),
        policy: () => live.current().inbound.get(args.service),
        traceSampling: () => live.current().traceSampling,
      }),
      app,
      observe,
    },
    // A plaintext caller (permissive only) has no identity: authorization admits it only by an "unauthenticated" rule.
    plaintextHandler: (req, target) => inboundHandler(req, undefined, target),
    onRefused: (reason, code) => {
      if (code !== undefined) tls?.refused(code);
      // Handshake timeouts are counted, not logged: a port scan would otherwise write a line per connection.
      if (code !== "timeout") log.warn({ reason }, "inbound connection refused");
    },
  });
  // The mode follows the config live: the inbound rebinds its port in the new mode (connections already open carry on).
  live.onApply((snap) => {
    const mode = inboundMode(snap, args.service);
    if (mode === inbound.mode()) return;
    try {
      inbound.setMode(mode);
      log.info({ mode }, "inbound mTLS mode changed");
    } catch (err) {
      log.error({ mode, err: String(err), kept: inbound.mode() }, "inbound mTLS mode change failed; the old mode stays");
    }
  });
  const tcp = startTcpUpstreams({ upstreams: args.tcpUpstreams, live, credentials: member.creds.current, log, tally: tcpTally });
  const outbound = startOutboundListener({ port: args.outboundPort, live, observe, credentials: args.outboundFastPath ? member.creds.current : undefined });

  // Registered last (inside serveMember): Consul sends callers here only once every listener is up and the app answers.
  await appHealth.first;
  await serveMember({
    runtime, member, log, args, metrics,
    inFlight: () => ({ inbound: inbound.inFlight(), outbound: outbound.inFlight() }),
    listeners: [{ close: (drainMs) => inbound.close({ drainMs }) }, { close: (drainMs) => outbound.stop(drainMs) }, { close: (drainMs) => tcp.stop(drainMs) }],
    healthy: appHealth.healthy,
    info: (draining) => ({ service: args.service, instance: args.instance, spiffeId: member.spiffeId, inboundPort: inbound.port, inboundMode: inbound.mode(), outboundPort: outbound.port, tcpUpstreams: tcp.ports, inFlight: { inbound: inbound.inFlight(), outbound: outbound.inFlight() }, draining }),
    registration: { id: args.instance, service: args.service, address: args.advertiseAddress, port: inbound.port, tags: args.tags, meta: { ...args.meta, kind: "sidecar" }, drainDelayMs: args.drainDelayMs },
    onStopped: () => appHealth.stop(),
    readyFields: { service: args.service, instance: args.instance, inboundPort: inbound.port, outboundPort: outbound.port, appPort: args.appPort, tcpUpstreams: tcp.ports },
  });
}

main().catch((err) => {
  console.error(`sidecar: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exit(1);
});
