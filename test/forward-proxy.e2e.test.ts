// The outbound listener as an HTTP forward proxy (HTTP_PROXY=http://127.0.0.1:<outbound>): stock clients send
// absolute-form requests (GET http://echo/path) and reach the service over mTLS through a real sidecar pair.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { TestMesh, startTestApp } from "./support/mesh.ts";
import { freePort } from "../deploy/lib/ports.ts";

const mesh = new TestMesh();
const app = startTestApp("echo");
let outbound = 0;

beforeAll(async () => {
  await mesh.startCa();
  const echoInbound = await freePort();
  const config = mesh.writeConfig({ services: { echo: { instances: [{ id: "echo-1", address: "127.0.0.1", port: echoInbound }] }, client: {} } });
  await mesh.startSidecar({ config, service: "echo", appPort: app.port, inboundPort: echoInbound });
  outbound = (await mesh.startSidecar({ config, service: "client", appPort: 1 })).outboundPort;
}, 60_000);

afterAll(async () => {
  await mesh.stop();
  app.stop();
}, 30_000);

test("curl -x (and curl with http_proxy set) reaches the service named in the URL", async () => {
  const proxy = `http://127.0.0.1:${outbound}`;
  const curl = Bun.spawn(["curl", "-sS", "--max-time", "10", "-x", proxy, "http://echo/path?q=1"], { stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH ?? "" } });
  try {
    expect(await curl.exited).toBe(0);
    expect(JSON.parse(await new Response(curl.stdout).text())).toMatchObject({ app: "echo", path: "/path?q=1", caller: "spiffe://mesh.local/ns/default/svc/client" });
  } finally {
    curl.kill("SIGKILL");
  }
  // The way apps pick it up without code changes: the proxy variable.
  const viaEnv = Bun.spawn(["curl", "-sS", "--max-time", "10", "http://echo/env"], { stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH ?? "", http_proxy: proxy } });
  try {
    expect(await viaEnv.exited).toBe(0);
    expect(JSON.parse(await new Response(viaEnv.stdout).text())).toMatchObject({ app: "echo", path: "/env" });
  } finally {
    viaEnv.kill("SIGKILL");
  }
  expect(app.seen.at(-1)!.headers.host).toBe("echo");
}, 30_000);

test("Bun's fetch with { proxy } sends absolute-form through the sidecar, with a body", async () => {
  const res = await fetch("http://echo/post", { method: "POST", body: "hello", proxy: `http://127.0.0.1:${outbound}` });
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ app: "echo", path: "/post", bodyLength: 5 });
});

test("an unknown service through the proxy is the mesh's 404 for no route, not a connection to the outside", async () => {
  const res = await fetch("http://not-a-service.example/", { proxy: `http://127.0.0.1:${outbound}` });
  expect(res.status).toBe(404);
});
