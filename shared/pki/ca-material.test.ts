// A persisted CA: material generated once, loaded back (keys non-extractable), signs leaves that chain to the same
// root; mismatched material is refused; fingerprints match openssl's and pinning only ever picks a real root.
import { describe, expect, test } from "bun:test";
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateCaMaterial, loadCertificateAuthority } from "./ca-material.ts";
import { bundleFingerprints, certificateFingerprint, normalizeFingerprint } from "./fingerprint.ts";
import { findPinnedRoot } from "./bundle.ts";
import { issueWorkloadCredentials } from "./workload.ts";
import { splitCertificatePem } from "./pem.ts";

const ECHO = "spiffe://mesh.local/ns/default/svc/echo";
const material = await generateCaMaterial({ trustDomain: "mesh.local" });

describe("CA material", () => {
  test("PKCS#8 keys and PEM certificates; a loaded CA signs leaves that chain to the persisted root", async () => {
    expect(material.rootKeyPem).toStartWith("-----BEGIN PRIVATE KEY-----\n");
    expect(material.intermediateKeyPem).toStartWith("-----BEGIN PRIVATE KEY-----\n");
    const ca = await loadCertificateAuthority(material);
    expect(ca.trustBundlePem()).toBe(material.rootCertPem);
    const creds = await issueWorkloadCredentials(ca, ECHO);
    const [leaf, inter] = splitCertificatePem(creds.certChainPem).map((p) => new X509Certificate(p));
    const root = new X509Certificate(material.rootCertPem);
    expect(inter!.toString()).toBe(new X509Certificate(material.intermediateCertPem).toString());
    expect(leaf!.verify(inter!.publicKey)).toBe(true);
    expect(inter!.verify(root.publicKey)).toBe(true);
    // Loaded twice (two CA processes over time): the same root, so members of both trust each other.
    const again = await loadCertificateAuthority(material);
    expect(again.trustBundlePem()).toBe(ca.trustBundlePem());
  });

  test("refuses material whose key, intermediate or root do not belong together", async () => {
    const other = await generateCaMaterial({ trustDomain: "mesh.local" });
    await expect(loadCertificateAuthority({ ...material, intermediateKeyPem: other.intermediateKeyPem })).rejects.toThrow("does not match");
    await expect(loadCertificateAuthority({ ...material, rootCertPem: other.rootCertPem })).rejects.toThrow("not signed by the root");
    await expect(loadCertificateAuthority({ ...material, trustDomain: "Bad Domain" })).rejects.toThrow("invalid trust domain");
  });
});

describe("fingerprints and pinning", () => {
  test("sha256:<hex> of the DER, the same as openssl's, in any usual spelling", async () => {
    const fp = await certificateFingerprint(material.rootCertPem);
    expect(fp).toMatch(/^sha256:[0-9a-f]{64}$/);
    const dir = await mkdtemp(join(tmpdir(), "fp-"));
    try {
      await writeFile(join(dir, "root.pem"), material.rootCertPem);
      const out = await new Promise<string>((resolve) => execFile("openssl", ["x509", "-in", join(dir, "root.pem"), "-noout", "-fingerprint", "-sha256"], (_e, so) => resolve(so)));
      expect(normalizeFingerprint(out.trim())).toBe(fp);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(normalizeFingerprint(fp.toUpperCase())).toBe(fp);
    expect(normalizeFingerprint("sha256:abc")).toBeUndefined();
    expect(normalizeFingerprint(`sha1:${"a".repeat(64)}`)).toBeUndefined();
  });

  test("the pinned root is found in a bundle; a leaf or intermediate with that fingerprint is never a trust anchor", async () => {
    const fp = await certificateFingerprint(material.rootCertPem);
    const other = await generateCaMaterial({ trustDomain: "mesh.local" });
    expect(await findPinnedRoot(other.rootCertPem + material.rootCertPem, fp)).toBe(material.rootCertPem);
    expect(await findPinnedRoot(other.rootCertPem, fp)).toBeUndefined();
    const interFp = await certificateFingerprint(material.intermediateCertPem);
    expect(await findPinnedRoot(material.intermediateCertPem, interFp)).toBeUndefined();
    expect(await bundleFingerprints(other.rootCertPem + material.rootCertPem)).toEqual([await certificateFingerprint(other.rootCertPem), fp]);
  });
});
