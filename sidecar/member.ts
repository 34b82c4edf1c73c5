// What makes a process a mesh member: its SPIFFE identity, credentials from the CA, the mTLS client, and the
// live config snapshot. Shared by the sidecar and the gateway so both join the mesh the same way.
import type { Logger } from "../shared/telemetry/logger.ts";
import type { MeshConfig } from "../shared/config/schema.ts";
import type { LiveSnapshot } from "../shared/config/live.ts";
import type { MeshClient } from "./transport/types.ts";
import { DEFAULTS } from "../shared/config/defaults.ts";
import { formatSpiffeId } from "../shared/pki/spiffe.ts";
import { watchConfigFile } from "../shared/config/file-provider.ts";
import { startLiveSnapshot } from "../shared/config/live.ts";
import { formatIssue } from "../shared/config/issues.ts";
import { startCredentialStore, type CredentialStore } from "./credentials.ts";
import { createMeshClient } from "./transport/mesh-client.ts";
import { forwarderFactory } from "./forwarders.ts";
import { assertStrictTlsEnvironment } from "./transport/inbound-server.ts";
import { startConsulFeed, type ConsulFeed } from "../shared/discovery/consul-feed.ts";

export type Member = { spiffeId: string; trustDomain: string; creds: CredentialStore; client: MeshClient; live: LiveSnapshot; discovery: ConsulFeed | undefined };

/** `first` is the config read once at start: the identity needs the trust domain before any snapshot exists. */
export async function joinMesh(opts: { first: MeshConfig; configPath: string; caUrl: string; service: string; log: Logger; consul?: string | undefined }): Promise<Member> {
  // The variable also weakens the client side's chain check: no mesh member starts with it, inbound or not.
  assertStrictTlsEnvironment();
  const trustDomain = opts.first.trustDomain ?? DEFAULTS.trustDomain;
  const namespace = opts.first.namespace ?? DEFAULTS.namespace;
  const spiffeId = formatSpiffeId({ trustDomain, namespace, service: opts.service });
  const creds = await startCredentialStore(opts.caUrl, spiffeId, opts.log);
  const client = createMeshClient({ credentials: creds.current });
  const live = await startLiveSnapshot({
    updates: watchConfigFile(opts.configPath, { onError: (i) => opts.log.error({}, formatIssue(i)) }),
    forwarder: forwarderFactory(client),
    log: opts.log,
  });
  // With Consul, endpoints follow its health checks (passing only); without, the file's static instances.
  const discovery = opts.consul === undefined ? undefined : startConsulFeed({ consul: opts.consul, live, log: opts.log, token: process.env.CONSUL_HTTP_TOKEN });
  return { spiffeId, trustDomain, creds, client, live, discovery };
}
