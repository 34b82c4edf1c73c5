// Tests of the hand-written PKCS#10 request and key PEM: what @peculiar/x509 (the CA's parser) and openssl read from
// them, byte equality with x509's own request for the same key, and PEM layout equal to x509's PemConverter.
import { describe, expect, test } from "bun:test";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCsrPem } from "./csr.ts";
import { children, encodingOf, readTlv } from "./der.ts";
import { derToPem, pemToDer } from "./pem.ts";
import { createCertificateAuthority } from "./ca.ts";
import { leafInfo, newWorkloadKey } from "./workload.ts";

x509.cryptoProvider.set(crypto);

const ID = "spiffe://mesh.local/ns/default/svc/echo";
const p256 = async (extractable = true) => (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, extractable, ["sign", "verify"])) as CryptoKeyPair;
const requestInfo = (der: Uint8Array) => [...encodingOf(der, children(der, readTlv(der))[0]!)];

describe("createCsrPem", () => {
  test("x509 reads it: one CERTIFICATE REQUEST, a P-256 key, the URI SAN, a signature that verifies", async () => {
    for (let i = 0; i < 25; i++) {
      const pem = await createCsrPem(await p256(i % 2 === 0), ID);
      const blocks = x509.PemConverter.decodeWithHeaders(pem);
      expect(blocks.map((b) => b.type)).toEqual(["CERTIFICATE REQUEST"]);
      const csr = new x509.Pkcs10CertificateRequest(pem);
      expect(await csr.verify()).toBe(true);
      expect((csr.publicKey.algorithm as EcKeyAlgorithm).namedCurve).toBe("P-256");
      // By OID: x509 2.2.0's getExtension(class) finds nothing in requests, its own included.
      const san = csr.getExtension("2.5.29.17") as x509.SubjectAlternativeNameExtension | null;
      expect(san?.names.items.map((n) => [n.type, n.value])).toEqual([["url", ID]]);
      expect(csr.subject).toBe("");
    }
  });

  test("the signed part is byte for byte what x509's generator makes for the same key", async () => {
    const keys = await p256();
    const ours = pemToDer(await createCsrPem(keys, ID), "CERTIFICATE REQUEST");
    const theirs = await x509.Pkcs10CertificateRequestGenerator.create({
      keys, signingAlgorithm: { name: "ECDSA", hash: "SHA-256" }, extensions: [new x509.SubjectAlternativeNameExtension([{ type: "url", value: ID }])],
    });
    expect(requestInfo(ours)).toEqual(requestInfo(new Uint8Array(theirs.rawData)));
  });

  test("openssl verifies it and reads the SAN", async () => {
    const dir = await mkdtemp(join(tmpdir(), "csr-test-"));
    try {
      const file = join(dir, "req.pem");
      await writeFile(file, await createCsrPem(await p256(), ID));
      const out = await new Promise<{ code: number; text: string }>((resolve) =>
        execFile("openssl", ["req", "-in", file, "-noout", "-verify", "-text"], (err, stdout, stderr) => resolve({ code: err === null ? 0 : 1, text: stdout + stderr })),
      );
      if (out.text.includes("not found") && out.code !== 0) return; // no openssl on this machine: x509's reading above stands
      expect(out.code).toBe(0);
      expect(out.text).toMatch(/verif(y|ication) OK/i);
      expect(out.text).toContain(`URI:${ID}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("the CA signs it for the caller's identity", async () => {
    const ca = await createCertificateAuthority({ trustDomain: "mesh.local" });
    const { csrPem, keyPem } = await newWorkloadKey(ID);
    const signed = await ca.sign(csrPem, ID);
    expect(leafInfo(signed.certChainPem).uris).toEqual([ID]);
    expect(keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+\n-----END PRIVATE KEY-----\n$/);
  });

  test("refuses what it cannot write", async () => {
    await expect(createCsrPem(await p256(), "spiffe://mesh.local/ns/default/svc/é")).rejects.toThrow(/printable ASCII/);
    const rsa = (await crypto.subtle.generateKey({ name: "RSASSA-PKCS1-v1_5", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, false, ["sign", "verify"])) as CryptoKeyPair;
    await expect(createCsrPem(rsa, ID)).rejects.toThrow(/ECDSA/);
  });
});

describe("PEM", () => {
  test("derToPem writes what x509's PemConverter writes, and pemToDer reads it back", () => {
    for (const n of [1, 2, 3, 47, 48, 49, 64, 100, 1000, 4096]) {
      const der = crypto.getRandomValues(new Uint8Array(n));
      const pem = derToPem(der, "PRIVATE KEY");
      expect(pem).toBe(x509.PemConverter.encode(der, "PRIVATE KEY"));
      expect([...pemToDer(pem, "PRIVATE KEY")]).toEqual([...der]);
      expect([...pemToDer(`junk\r\n${pem.replaceAll("\n", "\r\n")}\r\nmore`, "PRIVATE KEY")]).toEqual([...der]);
    }
  });
  test("pemToDer refuses a missing block and broken base64", () => {
    expect(() => pemToDer("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", "PRIVATE KEY")).toThrow(/no PRIVATE KEY block/);
    expect(() => pemToDer("-----BEGIN CERTIFICATE-----\nA*AA\n-----END CERTIFICATE-----")).toThrow(/base64/);
    expect(() => pemToDer("-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----")).toThrow(/base64/);
  });
});
