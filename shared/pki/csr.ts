// The member's certificate request (PKCS#10, RFC 2986): its public key, the SPIFFE id it asks for as a URI SAN, and
// its signature as proof of possession. Written by hand so members need no X.509 library; the CA parses it with one.
import { bitString, ecdsaRawToDer, oid, sequence, set, tlv, unsignedInteger } from "./der-write.ts";
import { TAG } from "./der.ts";
import { OID } from "./certificate.ts";
import { derToPem } from "./pem.ts";

const ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2";
const EXTENSION_REQUEST = "1.2.840.113549.1.9.14"; // PKCS#9 extensionRequest

/** A CSR for an ECDSA key pair, signed with SHA-256; it asks for the id, though a CA (ours included) may decide the identity itself. */
export async function createCsrPem(keys: CryptoKeyPair, spiffeId: string): Promise<string> {
  if (keys.privateKey.algorithm.name !== "ECDSA") throw new Error("workload keys are ECDSA");
  if (!/^[\x21-\x7e]+$/.test(spiffeId)) throw new Error(`a URI SAN is printable ASCII: ${JSON.stringify(spiffeId)}`);
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
  const san = sequence(tlv(0x86, new TextEncoder().encode(spiffeId))); // GeneralNames { uniformResourceIdentifier [6] }
  const extensions = sequence(sequence(oid(OID.SUBJECT_ALT_NAME), tlv(TAG.OCTET_STRING, san)));
  const info = sequence(
    unsignedInteger(new Uint8Array([0])), // version 1
    sequence(), // empty subject: the identity lives in the SAN
    spki,
    tlv(0xa0, sequence(oid(EXTENSION_REQUEST), set(extensions))), // attributes [0]
  );
  const raw = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, keys.privateKey, info));
  return derToPem(sequence(info, sequence(oid(ECDSA_WITH_SHA256)), bitString(ecdsaRawToDer(raw))), "CERTIFICATE REQUEST");
}
