// Authorization between services over real mTLS: web → echo is denied by echo's policy with a 403 naming the rule
// (the app never sees it), the gateway is allowed, and removing the policy from the watched file applies live.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { TestMesh, startTestApp } from "./support/mesh.ts";
import { freePort } from "../deploy/lib/ports.ts";
import { until } from "./support/until.ts";

const mesh = new TestMesh();
const echo = startTestApp("echo");
const webApp = startTestApp("web");
let gatewayPort = 0;
let webOutbound = 0;
let configPath = "";

const base = (echoInbound: number, webInbound: number, authorization: unknown) => ({
  trustDomain: "mesh.local",
  services: {
    echo: { instances: [{ id: "echo-1", address: "127.0.0.1", port: echoInbound }] },
    web: { instances: [{ id: "web-1", address: "127.0.0.1", port: webInbound }] },
  },
  gateway: {
    name: "gateway",
    listeners: [{ name: "http", address: "127.0.0.1", port: gatewayPort }],
    routes: [{ name: "echo", match: { path: { prefix: "/" } }, action: { destinations: [{ service: "echo" }] } }],
  },
  ...(authorization === undefined ? {} : { authorization }),
});

const POLICY = {
  echo: {
    default: "deny",
    rules: [
      { name: "gateway-may-call", action: "allow", from: ["gateway"] },
      { name: "no-web", action: "deny", from: ["web"] },
    ],
  },
};
let echoInbound = 0;
let webInbound = 0;

beforeAll(async () => {
  await mesh.startCa();
  gatewayPort = await freePort();
  echoInbound = await freePort();
  webInbound = await freePort();
  configPath = mesh.writeConfig(base(echoInbound, webInbound, POLICY));
  await mesh.startSidecar({ config: configPath, service: "echo", appPort: echo.port, inboundPort: echoInbound });
  const web = await mesh.startSidecar({ config: configPath, service: "web", appPort: webApp.port, inboundPort: webInbound });
  webOutbound = web.outboundPort;
  await mesh.startGateway(configPath);
}, 60_000);

afterAll(async () => {
  await mesh.stop();
  echo.stop();
  webApp.stop();
});

const fromWeb = () => fetch(`http://127.0.0.1:${webOutbound}/data`, { headers: { host: "echo" } });

test("web → echo is denied by rule no-web: 403 with the JSON error, the app never sees it", async () => {
  const before = echo.seen.length;
  const res = await fromWeb();
  expect(res.status).toBe(403);
  expect(res.headers.get("x-mesh-authz-rule")).toBe("no-web");
  const body = (await res.json()) as { error: string; message: string };
  expect(body.error).toBe("forbidden");
  expect(body.message).toContain('"no-web"');
  expect(echo.seen.length).toBe(before);
});

test("the gateway is allowed by rule gateway-may-call; its verified identity reaches the app", async () => {
  const res = await fetch(`http://127.0.0.1:${gatewayPort}/hello`);
  expect(res.status).toBe(200);
  expect(((await res.json()) as { caller: string }).caller).toBe("spiffe://mesh.local/ns/default/svc/gateway");
});

test("removing the policy from the watched file lets web through within a second", async () => {
  mesh.writeConfig(base(echoInbound, webInbound, undefined));
  const took = await until(async () => (await fromWeb()).status === 200, 3000);
  console.log(`authorization change applied in ${Math.round(took)} ms`);
  expect(took).toBeLessThan(1000);
  mesh.writeConfig(base(echoInbound, webInbound, POLICY));
  await until(async () => (await fromWeb()).status === 403, 3000);
});
