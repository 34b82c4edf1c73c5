// Test support: leaves signed by a real CA's intermediate but with arbitrary URI SANs, validity, keys and
// extensions, so listener tests can prove that every leaf breaking the X509-SVID rules is refused.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { unsafeLeafIssuer, type CertificateAuthority, type LeafParams } from "../../shared/pki/ca.ts";

x509.cryptoProvider.set(crypto);

export async function issueTestLeaf(
  ca: CertificateAuthority,
  opts: {
    uris: string[];
    notBefore?: Date;
    notAfter?: Date;
    /** The leaf's key; P-256 unless a test needs a weak or unusual one. */
    key?: "P-256" | "P-384" | "P-521" | "RSA-1024" | "RSA-2048";
    /** Replace the leaf's extensions or signature algorithm (to forge leaves that break the X509-SVID rules). */
    unsafe?: LeafParams["unsafe"];
  },
): Promise<{ keyPem: string; certChainPem: string }> {
  const k = opts.key ?? "P-256";
  const alg = k.startsWith("RSA")
    ? { name: "RSASSA-PKCS1-v1_5", modulusLength: Number(k.slice(4)), publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }
    : { name: "ECDSA", namedCurve: k };
  const keys = (await crypto.subtle.generateKey(alg, true, ["sign", "verify"])) as CryptoKeyPair;
  const now = Date.now();
  const { leafPem, intermediatePem } = await unsafeLeafIssuer(ca)({
    publicKey: keys.publicKey,
    uris: opts.uris,
    notBefore: opts.notBefore ?? new Date(now - 60_000),
    notAfter: opts.notAfter ?? new Date(now + 3_600_000),
    ...(opts.unsafe === undefined ? {} : { unsafe: opts.unsafe }),
  });
  const pkcs8 = await crypto.subtle.exportKey("pkcs8", keys.privateKey);
  return { keyPem: `${x509.PemConverter.encode(pkcs8, "PRIVATE KEY")}\n`, certChainPem: leafPem + intermediatePem };
}
