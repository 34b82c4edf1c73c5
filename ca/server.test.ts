// Tests for the CA service: sign over HTTP with the ca-client, input refusals, the loopback rule,
// and the binary's ready line and clean SIGTERM exit.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { createCertificateAuthority, type CertificateAuthority } from "../shared/pki/ca.ts";
import { createCaClient } from "../shared/pki/ca-client.ts";
import { splitCertificatePem } from "../shared/pki/pem.ts";
import { spiffeIdFromSubjectAltName } from "../shared/pki/spiffe.ts";
import { createCsrPem, issueWorkloadCredentials } from "../shared/pki/workload.ts";
import { isLoopbackAddress, startCaServer, type CaServer } from "./server.ts";

const ECHO = "spiffe://mesh.local/ns/default/svc/echo";
let ca: CertificateAuthority;
let server: CaServer;
let base: string;

beforeAll(async () => {
  ca = await createCertificateAuthority({ trustDomain: "mesh.local" });
  server = startCaServer(ca, { port: 0, hostname: "127.0.0.1" });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await server?.stop();
});

async function csr(): Promise<string> {
  const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"])) as CryptoKeyPair;
  return createCsrPem(keys, ECHO);
}

function post(body: string, headers: Record<string, string> = { "content-type": "application/json" }): Promise<Response> {
  return fetch(`${base}/v1/sign`, { method: "POST", headers, body });
}

describe("CA service", () => {
  test("issueWorkloadCredentials through the HTTP client", async () => {
    const creds = await issueWorkloadCredentials(createCaClient(base), ECHO, { ttlMs: 3_600_000 });
    expect(creds.trustBundlePem).toBe(ca.trustBundlePem());
    const [leafPem, interPem] = splitCertificatePem(creds.certChainPem);
    const leaf = new X509Certificate(leafPem!);
    const inter = new X509Certificate(interPem!);
    expect(leaf.verify(inter.publicKey)).toBe(true);
    expect(inter.verify(new X509Certificate(creds.trustBundlePem).publicKey)).toBe(true);
    expect(spiffeIdFromSubjectAltName(leaf.subjectAltName)).toBe(ECHO);
    expect(creds.notAfter.getTime()).toBe(new Date(leaf.validTo).getTime());
    expect(Math.abs(creds.notAfter.getTime() - Date.now() - 3_600_000)).toBeLessThan(5_000);
  });

  test("sign answer carries the chain, the trust bundle and an ISO notAfter", async () => {
    const res = await post(JSON.stringify({ csrPem: await csr(), spiffeId: ECHO }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, string>;
    expect(splitCertificatePem(body.certChainPem!).length).toBe(2);
    expect(body.trustBundlePem).toBe(ca.trustBundlePem());
    expect(new Date(body.notAfter!).toISOString()).toBe(body.notAfter!);
  });

  test("ready and trust bundle endpoints", async () => {
    expect(await (await fetch(`${base}/ready`)).json()).toEqual({ ready: true });
    expect(await (await fetch(`${base}/v1/trust-bundle`)).json()).toEqual({ trustBundlePem: ca.trustBundlePem() });
    expect(await createCaClient(`${base}/`).trustBundlePem()).toBe(ca.trustBundlePem());
  });

  test("bad input gets 400 with an error", async () => {
    const cases: Array<[string, RegExp]> = [
      ["not json", /JSON/],
      ["[1]", /object/],
      [JSON.stringify({ csrPem: 1, spiffeId: ECHO }), /strings/],
      [JSON.stringify({ csrPem: "x", spiffeId: ECHO }), /PKCS#10/],
      [JSON.stringify({ csrPem: await csr(), spiffeId: "spiffe://other.local/ns/default/svc/echo" }), /trust domain/],
      [JSON.stringify({ csrPem: await csr(), spiffeId: ECHO, ttlMs: "1h" }), /ttlMs/],
    ];
    for (const [body, reason] of cases) {
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(reason);
    }
  });

  test("the client surfaces a refusal with the CA URL", async () => {
    const client = createCaClient(base);
    await expect(client.sign("x", ECHO)).rejects.toThrow(`CA at ${base} answered 400 for /v1/sign: csrPem is not`);
  });

  test("bodies over 64 KiB get 413, declared or chunked", async () => {
    const big = JSON.stringify({ csrPem: "a".repeat(70_000), spiffeId: ECHO });
    expect((await post(big)).status).toBe(413);
    const chunked = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 10; i++) c.enqueue(new Uint8Array(8_000).fill(97));
        c.close();
      },
    });
    const res = await fetch(`${base}/v1/sign`, { method: "POST", body: chunked });
    expect(res.status).toBe(413);
  });

  test("wrong method and unknown path", async () => {
    expect((await fetch(`${base}/v1/sign`)).status).toBe(405);
    expect((await fetch(`${base}/v1/trust-bundle`, { method: "POST" })).status).toBe(405);
    expect((await fetch(`${base}/v1/nope`)).status).toBe(404);
  });

  test("an unreachable CA gives an error naming its URL", async () => {
    const dead = startCaServer(ca, { port: 0, hostname: "127.0.0.1" });
    const url = `http://127.0.0.1:${dead.port}`;
    await dead.stop();
    await expect(createCaClient(url).trustBundlePem()).rejects.toThrow(`CA at ${url} unreachable`);
  });

  test("refuses non-loopback addresses", () => {
    expect(() => startCaServer(ca, { port: 0, hostname: "0.0.0.0" })).toThrow(/only loopback/);
    expect(() => startCaServer(ca, { port: 0, hostname: "localhost" })).toThrow(/only loopback/);
    expect(isLoopbackAddress("127.0.0.1")).toBe(true);
    expect(isLoopbackAddress("127.1.2.3")).toBe(true);
    expect(isLoopbackAddress("::1")).toBe(true);
    expect(isLoopbackAddress("127.0.0.256")).toBe(false);
    expect(isLoopbackAddress("10.0.0.1")).toBe(false);
    expect(isLoopbackAddress("::")).toBe(false);
  });
});

describe("ca/main.ts", () => {
  const bun = process.execPath;
  const main = new URL("./main.ts", import.meta.url).pathname;

  test("prints one ready line, serves, and exits 0 on SIGTERM", async () => {
    const proc = Bun.spawn([bun, "run", main, "--port", "0", "--trust-domain", "mesh.local"], { stdout: "pipe", stderr: "pipe" });
    try {
      const reader = proc.stdout.getReader();
      let text = "";
      while (!text.includes("\n")) {
        const { done, value } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      reader.releaseLock();
      const ready = JSON.parse(text.split("\n")[0]!) as { msg: string; service: string; port: number };
      expect(ready).toEqual({ msg: "ready", service: "ca", port: expect.any(Number) });
      expect(ready.port).toBeGreaterThan(0);
      const creds = await issueWorkloadCredentials(createCaClient(`http://127.0.0.1:${ready.port}`), ECHO);
      expect(spiffeIdFromSubjectAltName(new X509Certificate(splitCertificatePem(creds.certChainPem)[0]!).subjectAltName)).toBe(ECHO);
      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
    } finally {
      proc.kill("SIGKILL");
    }
  });

  test("refuses a non-loopback --address with a clear error", async () => {
    const proc = Bun.spawn([bun, "run", main, "--port", "0", "--address", "0.0.0.0"], { stdout: "pipe", stderr: "pipe" });
    try {
      expect(await proc.exited).not.toBe(0);
      expect(await new Response(proc.stderr).text()).toContain("--address 0.0.0.0 is not a loopback address");
    } finally {
      proc.kill("SIGKILL");
    }
  });
});
