// Comparing TLS material by content: the credential store may hand out a fresh object on every call, and only a
// real change (rotation) may start new connection pools. The same rule as runtime/bun/tls-material.ts.
import type { TlsMaterial } from "../ports.ts";

export function sameMaterial(a: TlsMaterial, b: TlsMaterial): boolean {
  return a === b || (a.certChainPem === b.certChainPem && a.keyPem === b.keyPem && a.trustBundlePem === b.trustBundlePem);
}
