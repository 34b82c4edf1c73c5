// Tests for the bad-certificate factory: its leaves chain to the real CA yet carry the flaws asked for,
// so other suites can rely on them to exercise refusals.
import { describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { createCertificateAuthority, unsafeLeafIssuer, type CertificateAuthority } from "../../shared/pki/ca.ts";
import { splitCertificatePem } from "../../shared/pki/pem.ts";
import { spiffeIdFromSubjectAltName } from "../../shared/pki/spiffe.ts";
import { issueTestLeaf } from "./pki-testing.ts";

const ca = await createCertificateAuthority({ trustDomain: "mesh.local" });
const ECHO = "spiffe://mesh.local/ns/default/svc/echo";

function parse(chainPem: string): { leaf: X509Certificate; inter: X509Certificate } {
  const [leaf, inter] = splitCertificatePem(chainPem).map((p) => new X509Certificate(p));
  return { leaf: leaf!, inter: inter! };
}

describe("issueTestLeaf", () => {
  test("an expired leaf still chains to the CA", async () => {
    const now = Date.now();
    const t = await issueTestLeaf(ca, { uris: [ECHO], notBefore: new Date(now - 7_200_000), notAfter: new Date(now - 3_600_000) });
    const { leaf, inter } = parse(t.certChainPem);
    expect(leaf.checkIssued(inter)).toBe(true);
    expect(leaf.verify(inter.publicKey)).toBe(true);
    expect(new Date(leaf.validTo).getTime()).toBeLessThan(now);
    expect(spiffeIdFromSubjectAltName(leaf.subjectAltName)).toBe(ECHO);
  });

  test("two URI SANs: present in the cert, refused by the SAN reader", async () => {
    const t = await issueTestLeaf(ca, { uris: [ECHO, "spiffe://mesh.local/ns/default/svc/admin"] });
    const { leaf, inter } = parse(t.certChainPem);
    expect(leaf.checkIssued(inter)).toBe(true);
    expect(leaf.subjectAltName).toBe(`URI:${ECHO}, URI:spiffe://mesh.local/ns/default/svc/admin`);
    expect(spiffeIdFromSubjectAltName(leaf.subjectAltName)).toBeUndefined();
  });

  test("zero URI SANs and a foreign trust domain", async () => {
    const none = parse((await issueTestLeaf(ca, { uris: [] })).certChainPem).leaf;
    expect(none.subjectAltName).toBeUndefined();
    expect(spiffeIdFromSubjectAltName(none.subjectAltName)).toBeUndefined();
    const foreign = parse((await issueTestLeaf(ca, { uris: ["spiffe://evil.local/ns/default/svc/echo"] })).certChainPem).leaf;
    expect(spiffeIdFromSubjectAltName(foreign.subjectAltName)).toBe("spiffe://evil.local/ns/default/svc/echo");
  });

  test("the key matches the leaf", async () => {
    const t = await issueTestLeaf(ca, { uris: [ECHO] });
    const { createPrivateKey } = await import("node:crypto");
    expect(parse(t.certChainPem).leaf.checkPrivateKey(createPrivateKey(t.keyPem))).toBe(true);
  });

  test("only works for CAs made by createCertificateAuthority", () => {
    const no = () => Promise.reject(new Error("no"));
    const fake: CertificateAuthority = { trustDomain: "mesh.local", sign: no, issueServerCertificate: no, trustBundlePem: () => "" };
    expect(() => unsafeLeafIssuer(fake)).toThrow(/not a CertificateAuthority/);
  });
});
