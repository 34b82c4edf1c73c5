// The mesh config the three hosts run on (written to Consul KV with `meshctl apply`), and the authorization
// policy document the authorization step adds and removes: echo in two versions, web, and the gateway on host1.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import type { Network } from "./netns.ts";

export const GATEWAY_PORT = 8080;
export const KV_PREFIX = "mesh/";

/**
 * Retries that can leave a dying host: every try picks another endpoint of the same (whole-service) cluster. A
 * connection that went silent costs one per-try timeout; after that the endpoint's pool is suspect and a try that
 * gets nothing within connectTimeout counts as a connect failure and moves on.
 */
export const ECHO_POLICY = {
  loadBalancer: "round_robin",
  timeout: "5s",
  connectTimeout: "500ms",
  retries: { attempts: 3, on: ["connect-failure", "reset", "gateway-error"], perTryTimeout: "1s" },
} as const;

/**
 * web answers only after its own call to echo, which may spend one echo per-try timeout (1 s) and a retry: web's
 * per-try timeout must be longer than that, or the gateway gives up on a healthy web that is busy retrying for it.
 */
export const WEB_POLICY = { ...ECHO_POLICY, timeout: "10s", retries: { ...ECHO_POLICY.retries, perTryTimeout: "3s" } } as const;

export function meshConfig(net: Network): Record<string, unknown> {
  return {
    trustDomain: "mesh.local",
    services: {
      // Instances come from Consul (--consul): each sidecar registers its host's address and inbound port.
      echo: { subsets: { v1: { tags: ["v1"] }, v2: { tags: ["v2"] } }, policy: ECHO_POLICY },
      web: { policy: WEB_POLICY },
    },
    gateway: {
      name: "gateway",
      listeners: [{ name: "http", address: net.hosts.host1.address, port: GATEWAY_PORT }],
      routes: [
        // One destination = one cluster with every echo instance (v1 on host2, v2 on host3): a retry after a
        // failure on one host can land on the other. A v1/v2 weighted split would pin each try to one subset.
        { name: "echo", match: { path: { prefix: "/echo" } }, action: { destinations: [{ service: "echo" }] } },
        { name: "web", match: { path: { prefix: "/web" } }, action: { destinations: [{ service: "web" }] } },
      ],
    },
  };
}

/** The policy that refuses web -> echo (deny wins; everyone else keeps the mesh-wide default allow). */
export const DENY_WEB_TO_ECHO = { rules: [{ name: "no-web", action: "deny", from: ["web"] }] };
export const DENY_RULE = "no-web";

export function writeMeshFile(dir: string, net: Network): string {
  const file = join(dir, "mesh.yaml");
  writeFileSync(file, `# The three-hosts mesh (deploy/multihost); applied with meshctl apply -f\n${stringify(meshConfig(net))}`);
  return file;
}

/** The same file plus the authorization policy: `meshctl apply -f` of it writes only mesh/authorization/echo. */
export function writePolicyFile(dir: string, net: Network): string {
  const file = join(dir, "mesh-deny-web.yaml");
  writeFileSync(file, stringify({ ...meshConfig(net), authorization: { echo: DENY_WEB_TO_ECHO } }));
  return file;
}
