// The CA's state directory (0700, every file 0600): root and intermediate certificates with their PKCS#8 keys, the
// admin secret, the join-token records (hashes only) and the admin endpoint of the running CA. Back it up; lose it = new root.
import { join } from "node:path";
import { ensurePrivateDir, modeOf, readFileIfExists, writePrivateFile } from "../runtime/node/private-files.ts";
import type { CaMaterial } from "../shared/pki/ca-material.ts";
import type { TokenRecord } from "../shared/pki/join-tokens.ts";

export const STATE_FILES = {
  meta: "ca.json",
  rootCert: "root.pem",
  rootKey: "root.key",
  intermediateCert: "intermediate.pem",
  intermediateKey: "intermediate.key",
  adminSecret: "admin-secret",
  tokens: "tokens.json",
  adminEndpoint: "admin.json",
} as const;

type Meta = { version: 1; trustDomain: string; createdAt: string; rootFingerprint: string };

/** Writes a new CA into `dir`; refuses when one is there already (overwriting it would cut every member off). */
export function initState(dir: string, material: CaMaterial, rootFingerprint: string, extraFiles: Record<string, string> = {}): void {
  if (readFileIfExists(join(dir, STATE_FILES.meta)) !== undefined) {
    throw new Error(`${dir} already holds a CA (${STATE_FILES.meta}); refusing to overwrite it: a new root would mean re-joining every member`);
  }
  ensurePrivateDir(dir);
  const put = (name: string, text: string) => writePrivateFile(join(dir, name), text);
  // Keys and certificates first, the meta file last: a half-written directory is never taken for a CA.
  put(STATE_FILES.rootKey, material.rootKeyPem);
  put(STATE_FILES.rootCert, material.rootCertPem);
  put(STATE_FILES.intermediateKey, material.intermediateKeyPem);
  put(STATE_FILES.intermediateCert, material.intermediateCertPem);
  const secret = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
  put(STATE_FILES.adminSecret, `${secret}\n`);
  put(STATE_FILES.tokens, "[]\n");
  for (const [name, text] of Object.entries(extraFiles)) put(name, text);
  const meta: Meta = { version: 1, trustDomain: material.trustDomain, createdAt: new Date().toISOString(), rootFingerprint };
  put(STATE_FILES.meta, `${JSON.stringify(meta, null, 2)}\n`);
}

function need(dir: string, name: string): string {
  const text = readFileIfExists(join(dir, name));
  if (text === undefined) throw new Error(`${join(dir, name)} is missing; is ${dir} a CA state directory made by \`ca init\`?`);
  return text;
}

/** What `serve` needs; the root key stays on disk (it signs intermediates only, and serving never does that). */
export function readState(dir: string): { material: Omit<CaMaterial, "rootKeyPem">; rootFingerprint: string; adminSecret: string; warnings: string[] } {
  if (readFileIfExists(join(dir, STATE_FILES.meta)) === undefined) throw new Error(`no CA in ${dir}: run \`ca init --state ${dir} --trust-domain TD\` first`);
  const meta = JSON.parse(need(dir, STATE_FILES.meta)) as Meta;
  const warnings: string[] = [];
  const dirMode = modeOf(dir);
  if (dirMode !== undefined && (dirMode & 0o077) !== 0) warnings.push(`${dir} is mode ${dirMode.toString(8)}; it holds private keys and should be 700`);
  for (const f of [STATE_FILES.rootKey, STATE_FILES.intermediateKey, STATE_FILES.adminSecret]) {
    const m = modeOf(join(dir, f));
    if (m !== undefined && (m & 0o077) !== 0) warnings.push(`${join(dir, f)} is mode ${m.toString(8)}; it should be 600`);
  }
  return {
    material: {
      trustDomain: meta.trustDomain,
      rootCertPem: need(dir, STATE_FILES.rootCert),
      intermediateCertPem: need(dir, STATE_FILES.intermediateCert),
      intermediateKeyPem: need(dir, STATE_FILES.intermediateKey),
    },
    rootFingerprint: meta.rootFingerprint,
    adminSecret: need(dir, STATE_FILES.adminSecret).trim(),
    warnings,
  };
}

export function readTokenRecords(dir: string): TokenRecord[] {
  const text = readFileIfExists(join(dir, STATE_FILES.tokens));
  return text === undefined ? [] : (JSON.parse(text) as TokenRecord[]);
}

export async function saveTokenRecords(dir: string, records: TokenRecord[]): Promise<void> {
  writePrivateFile(join(dir, STATE_FILES.tokens), `${JSON.stringify(records, null, 2)}\n`);
}

/** Where `meshctl token` finds the running CA's admin listener (with the admin secret beside it). */
export function writeAdminEndpoint(dir: string, url: string): void {
  writePrivateFile(join(dir, STATE_FILES.adminEndpoint), `${JSON.stringify({ url, pid: process.pid, startedAt: new Date().toISOString() })}\n`);
}
