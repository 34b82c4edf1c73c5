// The member's state directory: its private key, leaf chain and trust bundle in one file (identity.json, 0600, in a
// 0700 directory), written atomically so key and certificate always match. A restart within the leaf's life needs no token.
import { joinPath, readFileIfExists, writePrivateFile } from "../runtime/node/private-files.ts";
import type { TlsMaterial } from "../runtime/ports.ts";

export const IDENTITY_FILE = "identity.json";

/** `pinnedRoot`: the --ca-fingerprint this identity descends from; after a root rotation the bundle no longer holds it. */
export type StoredIdentity = TlsMaterial & { notAfter: string; savedAt: string; pinnedRoot?: string };

/** `receivedAt` is stored as savedAt: when the leaf arrived, from which a restarted member schedules its renewal. */
export function saveIdentity(dir: string, m: TlsMaterial & { notAfter: Date; receivedAt: Date }, pinnedRoot: string): void {
  const stored: StoredIdentity = {
    spiffeId: m.spiffeId,
    keyPem: m.keyPem,
    certChainPem: m.certChainPem,
    trustBundlePem: m.trustBundlePem,
    notAfter: m.notAfter.toISOString(),
    savedAt: m.receivedAt.toISOString(),
    pinnedRoot,
  };
  writePrivateFile(joinPath(dir, IDENTITY_FILE), `${JSON.stringify(stored, null, 2)}\n`);
}

/** The stored identity, or why there is none to use (missing, unreadable); validity is the caller's check. */
export function loadIdentity(dir: string): StoredIdentity | { missing: string } {
  const path = joinPath(dir, IDENTITY_FILE);
  let text: string | undefined;
  try {
    text = readFileIfExists(path);
  } catch (err) {
    return { missing: `${path} unreadable: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (text === undefined) return { missing: `no ${path} yet` };
  try {
    const s = JSON.parse(text) as Partial<StoredIdentity>;
    const fields = [s.spiffeId, s.keyPem, s.certChainPem, s.trustBundlePem, s.notAfter];
    if (fields.some((f) => typeof f !== "string")) return { missing: `${path} is incomplete` };
    return s as StoredIdentity;
  } catch {
    return { missing: `${path} is not valid JSON` };
  }
}
