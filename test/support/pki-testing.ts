// Test support: leaves signed by a real CA's intermediate but with arbitrary URI SANs and validity,
// so listener tests can prove that zero/two/foreign URIs and expired certificates are refused.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { unsafeLeafIssuer, type CertificateAuthority } from "../../shared/pki/ca.ts";

x509.cryptoProvider.set(crypto);

export async function issueTestLeaf(
  ca: CertificateAuthority,
  opts: { uris: string[]; notBefore?: Date; notAfter?: Date },
): Promise<{ keyPem: string; certChainPem: string }> {
  const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const now = Date.now();
  const { leafPem, intermediatePem } = await unsafeLeafIssuer(ca)({
    publicKey: keys.publicKey,
    uris: opts.uris,
    notBefore: opts.notBefore ?? new Date(now - 60_000),
    notAfter: opts.notAfter ?? new Date(now + 3_600_000),
  });
  const pkcs8 = await crypto.subtle.exportKey("pkcs8", keys.privateKey);
  return { keyPem: `${x509.PemConverter.encode(pkcs8, "PRIVATE KEY")}\n`, certChainPem: leafPem + intermediatePem };
}
