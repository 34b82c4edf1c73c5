// Certificates for the L7 floor pair, from the mesh's own CA code: a root and intermediate, and one SVID per half
// (EC P-256, URI SAN only), written as PEM files into the bench's temp dir.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateCaMaterial, loadCertificateAuthority } from "../../shared/pki/ca-material.ts";
import { createCsrPem } from "../../shared/pki/csr.ts";
import { derToPem } from "../../shared/pki/pem.ts";

export type FloorFiles = { ca: string; outbound: { cert: string; key: string; id: string }; inbound: { cert: string; key: string; id: string } };

export async function writeFloorCertificates(dir: string, trustDomain: string): Promise<FloorFiles> {
  const material = await generateCaMaterial({ trustDomain });
  const { rootKeyPem: _unused, ...serving } = material;
  const ca = await loadCertificateAuthority(serving);
  const leaf = async (name: string): Promise<{ cert: string; key: string; id: string }> => {
    const id = `spiffe://${trustDomain}/ns/default/svc/${name}`;
    const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
    const signed = await ca.sign(await createCsrPem(keys, id), id);
    const cert = join(dir, `${name}.crt`);
    const key = join(dir, `${name}.key`);
    writeFileSync(cert, signed.certChainPem);
    writeFileSync(key, derToPem(new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey)), "PRIVATE KEY"), { mode: 0o600 });
    return { cert, key, id };
  };
  const caPath = join(dir, "floor-ca.crt");
  writeFileSync(caPath, ca.trustBundlePem());
  return { ca: caPath, outbound: await leaf("floor-outbound"), inbound: await leaf("floor-inbound") };
}
