// Tests the consul-pair command lines and the sidecar registration against what Consul 1.8.7 needs: free ports only,
// loopback listeners, a destination proxy configured by its registration and a source proxy with one upstream.
import { expect, test } from "bun:test";
import { agentArgs, destinationArgs, SIDECAR_CHECK_ID, sourceArgs, upstreamRegistration, type ConsulPairPorts } from "./consul-pair.ts";

const p: ConsulPairPorts = { http: 41500, serfLan: 41501, serfWan: 41502, server: 41503, public: 41504, local: 41505 };

test("the dev agent uses only the given ports and no DNS or gRPC listener", () => {
  const a = agentArgs("consul", "/tmp/d", p);
  expect(a.slice(0, 3)).toEqual(["consul", "agent", "-dev"]);
  const flag = (f: string) => a[a.indexOf(f) + 1];
  expect([flag("-http-port"), flag("-serf-lan-port"), flag("-serf-wan-port"), flag("-server-port")]).toEqual(["41500", "41501", "41502", "41503"]);
  expect([flag("-dns-port"), flag("-grpc-port"), flag("-bind"), flag("-client")]).toEqual(["-1", "-1", "127.0.0.1", "127.0.0.1"]);
});

test("service upstream points at the bench upstream, its sidecar listens on loopback and is healthy through a TTL check", () => {
  const r = upstreamRegistration(41001, p);
  expect([r.Name, r.Port]).toEqual(["upstream", 41001]);
  expect(r.Connect.SidecarService.Port).toBe(41504);
  expect(r.Connect.SidecarService.Proxy.Config.bind_address).toBe("127.0.0.1");
  expect(r.Connect.SidecarService.Checks).toEqual([{ CheckID: SIDECAR_CHECK_ID, Name: "bench", TTL: "24h" }]);
});

test("the two proxies: destination from the sidecar registration, source as client with one upstream", () => {
  expect(destinationArgs("consul", p)).toEqual(["consul", "connect", "proxy", "-http-addr", "127.0.0.1:41500", "-sidecar-for", "upstream"]);
  expect(sourceArgs("consul", p)).toEqual(["consul", "connect", "proxy", "-http-addr", "127.0.0.1:41500", "-service", "client", "-upstream", "upstream:41505"]);
});
