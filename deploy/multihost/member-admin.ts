// Reading mesh members' admin APIs, which listen on their own namespace's 127.0.0.1 only: /info (certificate and
// trust), /clusters (the endpoints a member routes to). Every member of the run, gateway included, by host and port.
import type { HostName, Network } from "./netns.ts";
import { nsGetJson } from "./ns-command.ts";

export type AdminRef = { name: string; host: HostName; adminPort: number };

export type MemberInfo = {
  certNotAfter?: string;
  certSecondsLeft?: number;
  /** Root fingerprints in the member's trust bundle, and the root its own leaf chains to (root rotation). */
  trust?: { bundleRoots?: string[]; leafRoot?: string };
  [k: string]: unknown;
};

export type ClusterView = { name: string; endpoints: Array<{ id: string; address: string; port: number }> };

export function memberInfo(net: Network, m: AdminRef): Promise<MemberInfo> {
  return nsGetJson<MemberInfo>(net.hosts[m.host].ns, `http://127.0.0.1:${m.adminPort}/info`);
}

export async function memberClusters(net: Network, m: AdminRef): Promise<ClusterView[]> {
  return (await nsGetJson<{ clusters: ClusterView[] }>(net.hosts[m.host].ns, `http://127.0.0.1:${m.adminPort}/clusters`)).clusters;
}

/** Endpoint ids of `service`'s whole-service cluster as member `m` routes to them right now. */
export async function routedEndpoints(net: Network, m: AdminRef, service: string): Promise<string[]> {
  const c = (await memberClusters(net, m)).find((x) => x.name === service);
  return (c?.endpoints ?? []).map((e) => e.id).sort();
}
