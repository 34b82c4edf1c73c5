// Unit tests of the X509-SVID rules on real certificates signed by a real CA intermediate: each forged leaf
// breaks exactly one rule and must be refused with a reason naming it.
import { describe, expect, test } from "bun:test";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { createCertificateAuthority } from "./ca.ts";
import { checkX509Svid } from "./svid.ts";
import { issueTestLeaf } from "../../test/support/pki-testing.ts";

const TD = "svid.test";
const ID = `spiffe://${TD}/ns/default/svc/api`;
const ca = await createCertificateAuthority({ trustDomain: TD });
const der = (pem: string): Uint8Array => new Uint8Array(new x509.X509Certificate(pem.slice(0, pem.indexOf("-----END CERTIFICATE-----") + 25)).rawData);
const leaf = async (o: Parameters<typeof issueTestLeaf>[1]) => der((await issueTestLeaf(ca, o)).certChainPem);
const replace = (kind: unknown, ext: x509.Extension) => (d: x509.Extension[]) => [...d.filter((e) => !(e instanceof (kind as new (...a: never[]) => x509.Extension))), ext];

describe("checkX509Svid", () => {
  test("a proper leaf passes for both roles", async () => {
    const d = await leaf({ uris: [ID] });
    expect(checkX509Svid(d, TD, "client")).toEqual({ ok: true, spiffeId: ID });
    expect(checkX509Svid(d, TD, "server")).toEqual({ ok: true, spiffeId: ID });
    expect(checkX509Svid(await leaf({ uris: [ID], key: "P-384" }), TD, "client").ok).toBe(true);
    expect(checkX509Svid(await leaf({ uris: [ID], key: "RSA-2048" }), TD, "client").ok).toBe(true);
  });

  const refusals: Array<[string, () => Promise<Uint8Array>, RegExp]> = [
    ["no URI SAN", () => leaf({ uris: [] }), /exactly one URI SAN/],
    ["two URI SANs", () => leaf({ uris: [ID, `spiffe://${TD}/ns/default/svc/other`] }), /exactly one URI SAN/],
    ["another trust domain", () => leaf({ uris: ["spiffe://evil.test/ns/default/svc/api"] }), /outside trust domain/],
    ["CA:true", () => leaf({ uris: [ID], unsafe: { extensions: replace(x509.BasicConstraintsExtension, new x509.BasicConstraintsExtension(true, undefined, true)) } }), /CA:true/],
    ["keyCertSign", () => leaf({ uris: [ID], unsafe: { extensions: replace(x509.KeyUsagesExtension, new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign, true)) } }), /keyCertSign/],
    ["cRLSign", () => leaf({ uris: [ID], unsafe: { extensions: replace(x509.KeyUsagesExtension, new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.cRLSign, true)) } }), /cRLSign/],
    ["no digitalSignature", () => leaf({ uris: [ID], unsafe: { extensions: replace(x509.KeyUsagesExtension, new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyEncipherment, true)) } }), /digitalSignature/],
    ["serverAuth-only EKU presented by a client", () => leaf({ uris: [ID], unsafe: { extensions: replace(x509.ExtendedKeyUsageExtension, new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth])) } }), /clientAuth/],
    ["RSA-1024 key", () => leaf({ uris: [ID], key: "RSA-1024" }), /RSA key of 1024 bits/],
    ["P-521 key", () => leaf({ uris: [ID], key: "P-521" }), /only P-256 and P-384/],
    ["SHA-1 signature", () => leaf({ uris: [ID], unsafe: { signingAlgorithm: { name: "ECDSA", hash: "SHA-1" } } }), /SHA-1/],
  ];
  for (const [name, make, reason] of refusals) {
    test(`refuses: ${name}`, async () => {
      const v = checkX509Svid(await make(), TD, "client");
      expect(v.ok).toBe(false);
      if (!v.ok) expect(v.reason).toMatch(reason);
    });
  }

  test("garbage is refused, not thrown", () => {
    expect(checkX509Svid(new Uint8Array([1, 2, 3]), TD, "client").ok).toBe(false);
  });
});

test("the verdict cache returns the same verdict without parsing again, per role", async () => {
  const { createSvidCache } = await import("./svid-cache.ts");
  const check = createSvidCache();
  const d = await leaf({ uris: [ID] });
  const first = check(d, TD, "client");
  expect(check(d, TD, "client")).toBe(first);
  expect(check(d, TD, "server")).not.toBe(first);
  expect(check(d, "other.test", "client").ok).toBe(false);
});
