// A real mutual-TLS handshake with workload credentials: node:tls on 127.0.0.1, each side reading the
// other's SPIFFE id from the verified peer certificate; plus the certificates that must be refused.
import { afterEach, describe, expect, test } from "bun:test";
import type { AddressInfo } from "node:net";
import * as tls from "node:tls";
import { createCertificateAuthority } from "./ca.ts";
import { spiffeIdFromSubjectAltName } from "./spiffe.ts";
import { issueTestLeaf } from "../../test/support/pki-testing.ts";
import { issueWorkloadCredentials } from "./workload.ts";

type Creds = { keyPem: string; certChainPem: string };
const ca = await createCertificateAuthority({ trustDomain: "mesh.local" });
const otherCa = await createCertificateAuthority({ trustDomain: "mesh.local" });
const ECHO = "spiffe://mesh.local/ns/default/svc/echo";
const WEB = "spiffe://mesh.local/ns/default/svc/web";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

type Outcome = { serverSawPeer?: string; clientSawPeer?: string; reply?: string; serverError?: string; clientError?: string };

/** One connection through a strict mTLS server; resolves once both sides have finished, never hangs past 5 s. */
async function handshake(server: Creds, client: Creds | undefined, clientCa = ca.trustBundlePem()): Promise<Outcome> {
  const out: Outcome = {};
  const srv = tls.createServer(
    { key: server.keyPem, cert: server.certChainPem, ca: ca.trustBundlePem(), requestCert: true, rejectUnauthorized: true },
    (sock) => {
      out.serverSawPeer = spiffeIdFromSubjectAltName(sock.getPeerX509Certificate()?.subjectAltName) ?? "<none>";
      sock.end("hello");
    },
  );
  let serverDone!: () => void;
  const serverFinished = new Promise<void>((r) => (serverDone = r));
  srv.on("secureConnection", (s) => s.on("close", serverDone));
  srv.on("tlsClientError", (err) => {
    out.serverError = (err as NodeJS.ErrnoException).code ?? err.message;
    serverDone();
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  cleanups.push(() => srv.close());
  const port = (srv.address() as AddressInfo).port;

  const sock = tls.connect({
    host: "127.0.0.1",
    port,
    ca: clientCa,
    ...(client ? { key: client.keyPem, cert: client.certChainPem } : {}),
    // No DNS names in SPIFFE certs: identity is checked on the URI SAN below instead of the hostname.
    checkServerIdentity: () => undefined,
  });
  cleanups.push(() => sock.destroy());
  const clientFinished = new Promise<void>((resolve) => {
    let reply = "";
    sock.on("secureConnect", () => {
      out.clientSawPeer = spiffeIdFromSubjectAltName(sock.getPeerX509Certificate()?.subjectAltName) ?? "<none>";
    });
    sock.on("data", (d: Buffer) => (reply += d.toString()));
    sock.on("error", (err: NodeJS.ErrnoException) => (out.clientError = err.code ?? err.message));
    sock.on("close", () => {
      if (reply) out.reply = reply;
      resolve();
    });
  });
  const timeout = new Promise<void>((r) => {
    const t = setTimeout(r, 5_000);
    cleanups.push(() => clearTimeout(t));
  });
  await Promise.race([Promise.all([clientFinished, serverFinished]), timeout]);
  return out;
}

describe("mTLS with workload credentials", () => {
  test("both sides see the other's SPIFFE id", async () => {
    const server = await issueWorkloadCredentials(ca, ECHO);
    const client = await issueWorkloadCredentials(ca, WEB);
    const out = await handshake(server, client);
    expect(out).toEqual({ serverSawPeer: WEB, clientSawPeer: ECHO, reply: "hello" });
  });

  test("a client without a certificate is refused", async () => {
    const out = await handshake(await issueWorkloadCredentials(ca, ECHO), undefined);
    expect(out.serverSawPeer).toBeUndefined();
    expect(out.serverError).toBe("ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE");
    expect(out.reply).toBeUndefined();
  });

  test("a client certificate from another CA is refused", async () => {
    const out = await handshake(await issueWorkloadCredentials(ca, ECHO), await issueWorkloadCredentials(otherCa, WEB));
    expect(out.serverSawPeer).toBeUndefined();
    expect(out.serverError).toBe("UNABLE_TO_GET_ISSUER_CERT_LOCALLY");
    expect(out.reply).toBeUndefined();
  });

  test("an expired client certificate is refused", async () => {
    const now = Date.now();
    const expired = await issueTestLeaf(ca, { uris: [WEB], notBefore: new Date(now - 7_200_000), notAfter: new Date(now - 3_600_000) });
    const out = await handshake(await issueWorkloadCredentials(ca, ECHO), expired);
    expect(out.serverSawPeer).toBeUndefined();
    expect(out.serverError).toBe("CERT_HAS_EXPIRED");
    expect(out.reply).toBeUndefined();
  });

  test("the client refuses a server whose certificate is from another CA", async () => {
    const out = await handshake(await issueWorkloadCredentials(otherCa, ECHO), await issueWorkloadCredentials(ca, WEB));
    expect(out.clientSawPeer).toBeUndefined();
    expect(out.clientError).toBe("UNABLE_TO_GET_ISSUER_CERT_LOCALLY");
    expect(out.reply).toBeUndefined();
  });

  test("a two-URI client certificate passes TLS but yields no identity", async () => {
    const twoUris = await issueTestLeaf(ca, { uris: [WEB, ECHO] });
    const out = await handshake(await issueWorkloadCredentials(ca, ECHO), twoUris);
    expect(out.serverSawPeer).toBe("<none>");
  });
});
