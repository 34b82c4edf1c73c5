// Chooses how the core reaches a service: mTLS through the mesh client (default), or plaintext for
// services declared outside the mesh (`mtls: disable`). Shared by the outbound sidecar and the gateway.
import type { Forwarder, ServiceInfo } from "../shared/proxy/snapshot.ts";
import type { MeshClient } from "../runtime/ports.ts";
import type { PlainClient } from "../runtime/ports.ts";

export function forwarderFactory(client: MeshClient, plainClient: PlainClient): (service: ServiceInfo) => Forwarder {
  const mesh: Forwarder = (endpoint, cluster, req, opts) => client.send(endpoint, cluster.spiffeId, req, opts);
  const plain: Forwarder = (endpoint, _cluster, req, opts) => plainClient.send(endpoint, req, opts);
  return (service) => (service.mtls === "disable" ? plain : mesh);
}
