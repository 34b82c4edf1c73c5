// What makes a process a mesh member: its SPIFFE identity, credentials from the CA, the mTLS client, and the
// live config snapshot. Shared by the sidecar and the gateway so both join the mesh the same way.
import { flushLog, type Logger } from "./logger.ts";
import type { JoinFlags } from "./flags.ts";
import type { MeshConfig } from "../shared/config/schema.ts";
import type { LiveSnapshot } from "../shared/build/live.ts";
import type { MeshClient, PlainClient, RuntimePorts } from "../runtime/ports.ts";
import { DEFAULTS } from "../shared/config/defaults.ts";
import { formatSpiffeId } from "../shared/pki/spiffe.ts";
import { startLiveSnapshot } from "../shared/build/live.ts";
import { openConfigSource, type ConfigSource } from "./config-source.ts";
import { createReclaimer } from "./reclaim.ts";
import { startCredentialStore, type CredentialStore } from "./credentials.ts";
import { absolutePath } from "../runtime/node/private-files.ts";
import { forwarderFactory } from "./forwarders.ts";
import { assertStrictTlsEnvironment } from "../runtime/strict-env.ts";
import type { ConsulFeed } from "./consul/discovery-feed.ts";

export type Member = {
  spiffeId: string;
  trustDomain: string;
  creds: CredentialStore;
  client: MeshClient;
  /** Plaintext HTTP/1.1 (the app on loopback, services with `mtls: disable`). */
  plainClient: PlainClient;
  live: LiveSnapshot;
  discovery: ConsulFeed | undefined;
  source: ConfigSource;
};

/** The first config state gives the trust domain: the identity is needed before any snapshot exists. */
/** Where a member keeps its key and leaf unless told (--state-dir): relative to the working directory, one per name. */
export function defaultStateDir(name: string): string {
  return `.mesh/state/${name}`;
}

export async function joinMesh(opts: { runtime: RuntimePorts; configPath: string | undefined; kvPrefix: string; join: JoinFlags; service: string | ((first: MeshConfig) => string); instance?: string | undefined; log: Logger; consul?: string | undefined }): Promise<Member> {
  // The variable also weakens the client side's chain check: no mesh member starts with it, inbound or not.
  assertStrictTlsEnvironment();
  const reclaimer = createReclaimer(opts.runtime.collectGarbage);
  const source = await openConfigSource({ configPath: opts.configPath, consul: opts.consul, kvPrefix: opts.kvPrefix, log: opts.log, reclaimer });
  const first = source.first;
  const trustDomain = first.trustDomain ?? DEFAULTS.trustDomain;
  const namespace = first.namespace ?? DEFAULTS.namespace;
  const service = typeof opts.service === "string" ? opts.service : opts.service(first);
  const spiffeId = formatSpiffeId({ trustDomain, namespace, service });
  const stateDir = absolutePath(opts.join.stateDir ?? defaultStateDir(service));
  const creds = await startCredentialStore({ caFetch: opts.runtime.caFetch, join: { ...opts.join, stateDir }, spiffeId, trustDomain, log: opts.log });
  const client = opts.runtime.createMeshClient({ credentials: creds.current });
  const plainClient = opts.runtime.createPlainClient();
  const live = await startLiveSnapshot({
    updates: source.updates,
    documentIssues: source.documentIssues,
    held: source.held,
    holds: source.holds,
    forwarder: forwarderFactory(client, plainClient),
    self: { service, instance: opts.instance },
    log: { info: (o, m) => opts.log.info(o, m), error: (o, m) => opts.log.error(o, m), flush: () => flushLog(opts.log) },
  });
  // With Consul, endpoints follow its health checks (passing only); without, the file's static instances.
  // Loaded only in Consul mode: the consul client (and node:http under it) is about 10 MB a file-mode member never needs.
  const discovery = opts.consul === undefined ? undefined : (await import("./consul/discovery-feed.ts")).startConsulFeed({ consul: opts.consul, live, log: opts.log, token: process.env.CONSUL_HTTP_TOKEN });
  return { spiffeId, trustDomain, creds, client, plainClient, live, discovery, source };
}
