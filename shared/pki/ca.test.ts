// Tests for the CA: chain validity (node:crypto and openssl), the exact leaf profile, and refusals
// (tampered CSR, foreign trust domain, bad ttl). Identity must come from the caller, never the CSR.
import "reflect-metadata";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as x509 from "@peculiar/x509";
import { CaRequestError, createCertificateAuthority, type CertificateAuthority } from "./ca.ts";
import { splitCertificatePem as splitPem } from "./pem.ts";
import { issueWorkloadCredentials } from "./workload.ts";
import { createCsrPem } from "./csr.ts";

const ECHO = "spiffe://mesh.local/ns/default/svc/echo";
const P256: EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };


/** node:child_process, not Bun.spawn: this file also runs on Deno (test/deno/). */
function openssl(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile("openssl", args, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : 1;
      resolve({ code, out: stdout + stderr });
    });
  });
}

let ca: CertificateAuthority;
let dir: string;
beforeAll(async () => {
  ca = await createCertificateAuthority({ trustDomain: "mesh.local" });
  dir = await mkdtemp(join(tmpdir(), "pki-test-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("chain", () => {
  test("leaf -> intermediate -> root verifies with node:crypto", async () => {
    const creds = await issueWorkloadCredentials(ca, ECHO);
    const [leafPem, interPem, ...rest] = splitPem(creds.certChainPem);
    expect(rest).toEqual([]);
    const leaf = new X509Certificate(leafPem!);
    const inter = new X509Certificate(interPem!);
    const root = new X509Certificate(creds.trustBundlePem);
    expect(leaf.checkIssued(inter)).toBe(true);
    expect(leaf.verify(inter.publicKey)).toBe(true);
    expect(inter.checkIssued(root)).toBe(true);
    expect(inter.verify(root.publicKey)).toBe(true);
    expect(root.verify(root.publicKey)).toBe(true);
    expect(leaf.verify(root.publicKey)).toBe(false);
    expect(leaf.ca).toBe(false);
    expect(inter.ca).toBe(true);
    expect(root.ca).toBe(true);
    expect(leaf.subjectAltName).toBe(`URI:${ECHO}`);
    expect(creds.keyPem).toStartWith("-----BEGIN PRIVATE KEY-----\n");
    expect(leaf.checkPrivateKey((await import("node:crypto")).createPrivateKey(creds.keyPem))).toBe(true);
  });

  test("openssl verify accepts the chain and reads the expected profile", async () => {
    const creds = await issueWorkloadCredentials(ca, ECHO);
    const [leafPem, interPem] = splitPem(creds.certChainPem);
    await writeFile(join(dir, "root.pem"), creds.trustBundlePem);
    await writeFile(join(dir, "inter.pem"), interPem!);
    await writeFile(join(dir, "leaf.pem"), leafPem!);
    const v = await openssl(["verify", "-CAfile", join(dir, "root.pem"), "-untrusted", join(dir, "inter.pem"), join(dir, "leaf.pem")]);
    expect(v.out).toContain("leaf.pem: OK");
    expect(v.code).toBe(0);
    // Without the intermediate the leaf must not chain to the root directly.
    const noInter = await openssl(["verify", "-CAfile", join(dir, "root.pem"), join(dir, "leaf.pem")]);
    expect(noInter.code).not.toBe(0);

    const text = (await openssl(["x509", "-in", join(dir, "leaf.pem"), "-noout", "-text"])).out;
    expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature\n/);
    expect(text).toMatch(/Extended Key Usage: ?\s+TLS Web Server Authentication, TLS Web Client Authentication/);
    expect(text).toMatch(/Subject Alternative Name: critical\s+URI:spiffe:\/\/mesh\.local\/ns\/default\/svc\/echo\n/);
    expect(text).toContain("ASN1 OID: prime256v1");
    const interText = (await openssl(["x509", "-in", join(dir, "inter.pem"), "-noout", "-text"])).out;
    expect(interText).toMatch(/Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(interText).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
    const rootText = (await openssl(["x509", "-in", join(dir, "root.pem"), "-noout", "-text"])).out;
    expect(rootText).toMatch(/Basic Constraints: critical\s+CA:TRUE\n/);
    expect(rootText).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
  });
});

describe("leaf profile", () => {
  test("exactly the required extensions, empty subject, random positive 128-bit serial, 24 h validity", async () => {
    const before = Date.now();
    const creds = await issueWorkloadCredentials(ca, ECHO);
    const [leafPem, interPem] = splitPem(creds.certChainPem);
    const leaf = new x509.X509Certificate(leafPem!);
    const inter = new x509.X509Certificate(interPem!);

    const byOid = new Map(leaf.extensions.map((e) => [e.type, e]));
    expect([...byOid.keys()].sort()).toEqual(["2.5.29.14", "2.5.29.15", "2.5.29.17", "2.5.29.19", "2.5.29.35", "2.5.29.37"]);
    expect(leaf.extensions.length).toBe(6);

    const bc = leaf.getExtension(x509.BasicConstraintsExtension)!;
    expect([bc.ca, bc.critical]).toEqual([false, true]);
    const ku = leaf.getExtension(x509.KeyUsagesExtension)!;
    expect([ku.usages, ku.critical]).toEqual([x509.KeyUsageFlags.digitalSignature, true]);
    const eku = leaf.getExtension(x509.ExtendedKeyUsageExtension)!;
    expect([...eku.usages].sort()).toEqual([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth].sort());
    const san = leaf.getExtension(x509.SubjectAlternativeNameExtension)!;
    expect(san.critical).toBe(true);
    expect(san.names.toJSON()).toEqual([{ type: "url", value: ECHO }]);
    const aki = leaf.getExtension(x509.AuthorityKeyIdentifierExtension)!;
    const interSki = inter.getExtension(x509.SubjectKeyIdentifierExtension)!;
    expect(aki.keyId).toBe(interSki.keyId);
    expect(leaf.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId).toMatch(/^[0-9a-f]{40}$/);

    expect(leaf.subject).toBe("");
    expect(leaf.issuer).toBe("CN=mesh.local intermediate CA");
    expect(leaf.serialNumber).toMatch(/^[0-7][0-9a-f]{31}$/);
    const other = new x509.X509Certificate(splitPem((await issueWorkloadCredentials(ca, ECHO)).certChainPem)[0]!);
    expect(other.serialNumber).not.toBe(leaf.serialNumber);

    // X.509 times have second precision.
    expect(leaf.notBefore.getTime()).toBeGreaterThanOrEqual(before - 61_000);
    expect(leaf.notBefore.getTime()).toBeLessThanOrEqual(Date.now() - 59_000);
    expect(leaf.notAfter.getTime()).toBeGreaterThanOrEqual(before + 86_400_000 - 1_000);
    expect(leaf.notAfter.getTime()).toBeLessThanOrEqual(Date.now() + 86_400_000);
    expect(creds.notAfter.getTime()).toBe(leaf.notAfter.getTime());
  });

  test("ttlMs sets the lifetime, bad ttl is refused", async () => {
    const creds = await issueWorkloadCredentials(ca, ECHO, { ttlMs: 3_600_000 });
    expect(Math.abs(creds.notAfter.getTime() - (Date.now() + 3_600_000))).toBeLessThan(5_000);
    await expect(issueWorkloadCredentials(ca, ECHO, { ttlMs: 0 })).rejects.toBeInstanceOf(CaRequestError);
    await expect(issueWorkloadCredentials(ca, ECHO, { ttlMs: 31 * 86_400_000 })).rejects.toThrow(/ttlMs/);
  });

  test("a leaf never outlives the intermediate", async () => {
    const shortCa = await createCertificateAuthority({ trustDomain: "mesh.local", intermediateTtlMs: 2 * 3_600_000 });
    const creds = await issueWorkloadCredentials(shortCa, ECHO, { ttlMs: 10 * 86_400_000 });
    const inter = new x509.X509Certificate(splitPem(creds.certChainPem)[1]!);
    expect(creds.notAfter.getTime()).toBeLessThanOrEqual(inter.notAfter.getTime());
  });
});

describe("refusals", () => {
  async function csrFor(requestedId: string): Promise<string> {
    const keys = (await crypto.subtle.generateKey(P256, false, ["sign", "verify"])) as CryptoKeyPair;
    return createCsrPem(keys, requestedId);
  }

  test("a tampered CSR is rejected", async () => {
    const pem = await csrFor(ECHO);
    const der = new Uint8Array(x509.PemConverter.decodeFirst(pem));
    // Flip one letter of the requested SAN inside the signed CertificationRequestInfo.
    const needle = new TextEncoder().encode("svc/echo");
    const at = der.findIndex((_, i) => needle.every((b, j) => der[i + j] === b));
    expect(at).toBeGreaterThan(0);
    der[at + 4] = "f".charCodeAt(0);
    const tampered = x509.PemConverter.encode(der, "CERTIFICATE REQUEST");
    await expect(ca.sign(tampered, ECHO)).rejects.toThrow("CSR signature does not verify");
    expect(await ca.sign(pem, ECHO)).toHaveProperty("certChainPem");
  });

  test("garbage, two CSRs, and a certificate instead of a CSR are rejected", async () => {
    await expect(ca.sign("not a pem", ECHO)).rejects.toBeInstanceOf(CaRequestError);
    const pem = await csrFor(ECHO);
    await expect(ca.sign(pem + pem, ECHO)).rejects.toBeInstanceOf(CaRequestError);
    await expect(ca.sign(ca.trustBundlePem(), ECHO)).rejects.toBeInstanceOf(CaRequestError);
  });

  test("a non-P-256 key is rejected", async () => {
    const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-384" }, false, ["sign", "verify"])) as CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ keys, signingAlgorithm: { name: "ECDSA", hash: "SHA-384" } });
    await expect(ca.sign(csr.toString("pem"), ECHO)).rejects.toThrow("CSR key must be EC P-256");
  });

  test("an id outside the trust domain, or not a spiffe id, is rejected", async () => {
    const pem = await csrFor(ECHO);
    await expect(ca.sign(pem, "spiffe://other.local/ns/default/svc/echo")).rejects.toThrow(/outside this CA's trust domain/);
    await expect(ca.sign(pem, "spiffe://mesh.local.evil/ns/default/svc/echo")).rejects.toBeInstanceOf(CaRequestError);
    await expect(ca.sign(pem, "https://mesh.local/ns/default/svc/echo")).rejects.toThrow(/not a valid SPIFFE id/);
  });

  test("the identity comes from the caller; SANs the CSR asks for are ignored", async () => {
    const pem = await csrFor("spiffe://mesh.local/ns/default/svc/admin");
    const signed = await ca.sign(pem, ECHO);
    const leaf = new X509Certificate(splitPem(signed.certChainPem)[0]!);
    expect(leaf.subjectAltName).toBe(`URI:${ECHO}`);
  });

  test("invalid trust domain at creation", async () => {
    await expect(createCertificateAuthority({ trustDomain: "Mesh Local" })).rejects.toThrow(/invalid trust domain/);
  });
});
