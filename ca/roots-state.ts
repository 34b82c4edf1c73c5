// The CA's roots on disk during a rotation: roots.json (which root signs, the next one, retiring ones and how long
// leaves from them stay valid), the next-* files of a rotation in progress, and the switch, rolled forward if cut short.
import { join } from "node:path";
import { renameSync } from "node:fs";
import { ensurePrivateDir, readFileIfExists, writePrivateFile } from "../runtime/node/private-files.ts";
import type { CaMaterial } from "../shared/pki/ca-material.ts";
import { certificateFingerprint } from "../shared/pki/fingerprint.ts";
import { MAX_LEAF_TTL_MS } from "../shared/pki/ca.ts";
import { STATE_FILES } from "./state.ts";

export const ROOTS_FILE = "roots.json";
const NEXT = { rootCert: "next-root.pem", rootKey: "next-root.key", intermediateCert: "next-intermediate.pem", intermediateKey: "next-intermediate.key" } as const;
const ACTIVE_OF_NEXT: ReadonlyArray<readonly [string, string]> = [
  [NEXT.rootCert, STATE_FILES.rootCert],
  [NEXT.rootKey, STATE_FILES.rootKey],
  [NEXT.intermediateCert, STATE_FILES.intermediateCert],
  [NEXT.intermediateKey, STATE_FILES.intermediateKey],
];

export type RetiringRoot = { fingerprint: string; rootCertPem: string; leavesValidUntil: string };
export type RootsFile = {
  version: 1;
  /** Bumped whenever the bundle members must trust changes (or the signing root does). */
  bundleIndex: number;
  /** `leavesValidUntil`: the latest notAfter of a workload leaf this root's intermediate signed; null = none yet. */
  signing: { fingerprint: string; leavesValidUntil: string | null };
  next?: { fingerprint: string; rootCertPem: string; startedAt: string; switchAt: string; propagateMs: number };
  retiring: RetiringRoot[];
};

export function writeRoots(dir: string, r: RootsFile): void {
  writePrivateFile(join(dir, ROOTS_FILE), `${JSON.stringify(r, null, 2)}\n`);
}

/** The first roots.json, written by `ca init`: no leaf signed yet. */
export function initialRoots(fingerprint: string): RootsFile {
  return { version: 1, bundleIndex: 1, signing: { fingerprint, leavesValidUntil: null }, retiring: [] };
}

/**
 * roots.json, made for a state directory from before rotation existed (leaves of unknown age: assume the longest
 * lifetime the CA allows), and a switch cut short by a crash finished (the file is written before the files move).
 */
export async function loadRoots(dir: string): Promise<RootsFile> {
  const text = readFileIfExists(join(dir, ROOTS_FILE));
  if (text === undefined) {
    const fp = await certificateFingerprint(need(dir, STATE_FILES.rootCert));
    const r: RootsFile = { ...initialRoots(fp), signing: { fingerprint: fp, leavesValidUntil: new Date(Date.now() + MAX_LEAF_TTL_MS).toISOString() } };
    writeRoots(dir, r);
    return r;
  }
  const r = JSON.parse(text) as RootsFile;
  // next-* files without a rotation in roots.json: the switch was committed, then cut short while moving files.
  const pending = ACTIVE_OF_NEXT.some(([next]) => readFileIfExists(join(dir, next)) !== undefined);
  if (r.next === undefined && pending) moveIntoPlace(dir, r.retiring[r.retiring.length - 1]?.fingerprint ?? "sha256:unknown");
  const activeFp = await certificateFingerprint(need(dir, STATE_FILES.rootCert));
  if (r.signing.fingerprint !== activeFp) {
    throw new Error(`${join(dir, ROOTS_FILE)} says root ${r.signing.fingerprint} signs, but ${STATE_FILES.rootCert} is ${activeFp}; restore the state directory from a backup`);
  }
  return r;
}

/** Writes the next root and intermediate (keys 0600) beside the active ones; nothing signs with them yet. */
export function writeNextMaterial(dir: string, m: CaMaterial): void {
  writePrivateFile(join(dir, NEXT.rootKey), m.rootKeyPem);
  writePrivateFile(join(dir, NEXT.rootCert), m.rootCertPem);
  writePrivateFile(join(dir, NEXT.intermediateKey), m.intermediateKeyPem);
  writePrivateFile(join(dir, NEXT.intermediateCert), m.intermediateCertPem);
}

export function readNextMaterial(dir: string, trustDomain: string): Omit<CaMaterial, "rootKeyPem"> {
  return { trustDomain, rootCertPem: need(dir, NEXT.rootCert), intermediateCertPem: need(dir, NEXT.intermediateCert), intermediateKeyPem: need(dir, NEXT.intermediateKey) };
}

/**
 * The switch on disk: `after` (signing = the next root) is written first, then the active files move to
 * retired/<fingerprint>/ and the next-* files take their names. loadRoots finishes a switch a crash cut short.
 */
export function switchOnDisk(dir: string, oldFingerprint: string, after: RootsFile): void {
  writeRoots(dir, after);
  moveIntoPlace(dir, oldFingerprint);
}

/** Pair by pair (so a repeat after a crash never moves a new file away): the active file out, the next one in. */
function moveIntoPlace(dir: string, oldFingerprint: string): void {
  const retired = join(dir, "retired", oldFingerprint.replace(/^sha256:/, "").slice(0, 16));
  ensurePrivateDir(join(dir, "retired"));
  ensurePrivateDir(retired);
  for (const [next, active] of ACTIVE_OF_NEXT) {
    if (readFileIfExists(join(dir, next)) === undefined) continue;
    if (readFileIfExists(join(dir, active)) !== undefined) renameSync(join(dir, active), join(retired, active));
    renameSync(join(dir, next), join(dir, active));
  }
}

function need(dir: string, name: string): string {
  const text = readFileIfExists(join(dir, name));
  if (text === undefined) throw new Error(`${join(dir, name)} is missing`);
  return text;
}
