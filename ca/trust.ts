// The CA's trust state in memory: the authority that signs, the bundle members must trust, and a root rotation's
// phases (propagate the new root, switch signing once every member holds it, retire the old root when its leaves end).
import type { CertificateAuthority } from "../shared/pki/ca.ts";
import { generateCaMaterial, loadCertificateAuthority } from "../shared/pki/ca-material.ts";
import { certificateFingerprint } from "../shared/pki/fingerprint.ts";
import type { TrustBundleState } from "../shared/pki/ca-client.ts";
import { readNextMaterial, switchOnDisk, writeNextMaterial, writeRoots, type RootsFile } from "./roots-state.ts";
import type { CaLog } from "./http.ts";

export type RotationPhase = "idle" | "propagating" | "switched";
export type RootStatus = { fingerprint: string; role: "signing" | "next" | "retiring"; leavesValidUntil?: string; switchAt?: string };
export type MemberView = { member: string; spiffeId: string; index: number; lastSeen: string };
export type RotationStatus = {
  phase: RotationPhase;
  signingRoot: string;
  bundleIndex: number;
  roots: RootStatus[];
  /** Members whose bundle watch reached the CA in the last minute; `behind` still lack the next root. */
  members: { seen: number; behind: MemberView[] };
};

export class RotationError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

export type CaTrust = {
  readonly trustDomain: string;
  signer(): CertificateAuthority;
  bundlePem(): string;
  state(): TrustBundleState;
  /** Resolves once the bundle index is no longer `index`, or after `waitMs`. */
  waitForChange(index: number, waitMs: number): Promise<void>;
  recordIssued(notAfter: Date): void;
  memberSeen(member: string, spiffeId: string, index: number): void;
  startRotation(propagateMs: number): Promise<RotationStatus>;
  status(): RotationStatus;
  /** Called after the bundle or the signer changed (the CA's listener reloads its certificate and client roots). */
  onChange(cb: () => void): void;
  stop(): void;
};

const SEEN_WINDOW_MS = 60_000;
const TICK_MS = 1000;

export async function openCaTrust(o: { dir: string; roots: RootsFile; signer: CertificateAuthority; log: CaLog }): Promise<CaTrust> {
  const { dir, log } = o;
  let roots = o.roots;
  let signer = o.signer;
  const trustDomain = signer.trustDomain;
  const members = new Map<string, { spiffeId: string; index: number; lastSeen: number }>();
  const waiters = new Set<{ index: number; done: () => void }>();
  const listeners: Array<() => void> = [];

  const bundlePem = (): string => signer.trustBundlePem() + (roots.next?.rootCertPem ?? "") + roots.retiring.map((r) => r.rootCertPem).join("");
  const fingerprints = (): string[] => [roots.signing.fingerprint, ...(roots.next === undefined ? [] : [roots.next.fingerprint]), ...roots.retiring.map((r) => r.fingerprint)];

  const changed = (r: RootsFile, why: string): void => {
    roots = r;
    writeRoots(dir, roots);
    log("info", why, { bundleIndex: roots.bundleIndex, signingRoot: roots.signing.fingerprint, roots: fingerprints() });
    for (const w of waiters) if (w.index !== roots.bundleIndex) w.done();
    for (const cb of listeners) cb();
  };

  /** Members seen lately that don't hold the bundle with the next root yet; they block the switch. */
  const behind = (): MemberView[] => {
    const now = Date.now();
    const out: MemberView[] = [];
    for (const [member, m] of members) {
      if (now - m.lastSeen > 5 * SEEN_WINDOW_MS) members.delete(member);
      else if (now - m.lastSeen <= SEEN_WINDOW_MS && roots.next !== undefined && m.index < roots.bundleIndex) {
        out.push({ member, spiffeId: m.spiffeId, index: m.index, lastSeen: new Date(m.lastSeen).toISOString() });
      }
    }
    return out;
  };

  let switching = false;
  const trySwitch = async (): Promise<void> => {
    const next = roots.next;
    if (next === undefined || switching || Date.now() < Date.parse(next.switchAt)) return;
    const waiting = behind();
    if (waiting.length > 0) return;
    switching = true;
    try {
      const fresh = await loadCertificateAuthority(readNextMaterial(dir, trustDomain));
      const oldPem = signer.trustBundlePem();
      const retiring = { fingerprint: roots.signing.fingerprint, rootCertPem: oldPem, leavesValidUntil: roots.signing.leavesValidUntil ?? new Date().toISOString() };
      const after: RootsFile = { version: 1, bundleIndex: roots.bundleIndex + 1, signing: { fingerprint: next.fingerprint, leavesValidUntil: null }, retiring: [...roots.retiring, retiring] };
      switchOnDisk(dir, roots.signing.fingerprint, after);
      signer = fresh;
      roots = after; // written by switchOnDisk; `changed` writes it again, harmlessly, and tells everyone
      changed(after, `root rotation: new leaves now come from root ${next.fingerprint}; ${retiring.fingerprint} stays trusted until ${retiring.leavesValidUntil}`);
    } catch (err) {
      log("error", "root rotation: switching to the new root failed; still signing with the old one", { err: String(err) });
    } finally {
      switching = false;
    }
  };

  const retire = (): void => {
    const now = Date.now();
    const keep = roots.retiring.filter((r) => Date.parse(r.leavesValidUntil) > now);
    if (keep.length === roots.retiring.length) return;
    const gone = roots.retiring.filter((r) => !keep.includes(r)).map((r) => r.fingerprint);
    changed({ ...roots, bundleIndex: roots.bundleIndex + 1, retiring: keep }, `root rotation: no valid leaf chains to ${gone.join(", ")} any more; removed from the trust bundle`);
  };

  const timer = setInterval(() => {
    retire();
    void trySwitch();
  }, TICK_MS);
  (timer as { unref?: () => void }).unref?.();

  const status = (): RotationStatus => {
    const list: RootStatus[] = [{ fingerprint: roots.signing.fingerprint, role: "signing", ...(roots.signing.leavesValidUntil === null ? {} : { leavesValidUntil: roots.signing.leavesValidUntil }) }];
    if (roots.next !== undefined) list.push({ fingerprint: roots.next.fingerprint, role: "next", switchAt: roots.next.switchAt });
    for (const r of roots.retiring) list.push({ fingerprint: r.fingerprint, role: "retiring", leavesValidUntil: r.leavesValidUntil });
    const b = behind();
    const seen = [...members.values()].filter((m) => Date.now() - m.lastSeen <= SEEN_WINDOW_MS).length;
    const phase: RotationPhase = roots.next !== undefined ? "propagating" : roots.retiring.length > 0 ? "switched" : "idle";
    return { phase, signingRoot: roots.signing.fingerprint, bundleIndex: roots.bundleIndex, roots: list, members: { seen, behind: b } };
  };

  return {
    trustDomain,
    signer: () => signer,
    bundlePem,
    state: () => ({ trustDomain, trustBundlePem: bundlePem(), index: roots.bundleIndex, signingRoot: roots.signing.fingerprint, rootFingerprints: fingerprints() }),
    waitForChange(index, waitMs) {
      if (index !== roots.bundleIndex || waitMs <= 0) return Promise.resolve();
      return new Promise((resolve) => {
        const w = { index, done: () => {} };
        const t = setTimeout(() => w.done(), waitMs);
        w.done = () => {
          clearTimeout(t);
          waiters.delete(w);
          resolve();
        };
        waiters.add(w);
      });
    },
    recordIssued(notAfter) {
      const prev = roots.signing.leavesValidUntil;
      if (prev !== null && Date.parse(prev) >= notAfter.getTime()) return;
      roots = { ...roots, signing: { ...roots.signing, leavesValidUntil: notAfter.toISOString() } };
      writeRoots(dir, roots);
    },
    memberSeen(member, spiffeId, index) {
      members.set(member, { spiffeId, index, lastSeen: Date.now() });
    },
    async startRotation(propagateMs) {
      if (roots.next !== undefined) throw new RotationError("rotation-in-progress", `a rotation to ${roots.next.fingerprint} is already propagating (switch at ${roots.next.switchAt} once every member holds it)`);
      if (roots.retiring.length > 0) {
        const until = roots.retiring.map((r) => r.leavesValidUntil).sort().at(-1);
        throw new RotationError("root-still-retiring", `root ${roots.retiring.map((r) => r.fingerprint).join(", ")} is still trusted until ${until} (leaves it signed are valid until then); rotate again after that`);
      }
      const material = await generateCaMaterial({ trustDomain });
      const fingerprint = await certificateFingerprint(material.rootCertPem);
      writeNextMaterial(dir, material);
      const now = Date.now();
      const next = { fingerprint, rootCertPem: material.rootCertPem, startedAt: new Date(now).toISOString(), switchAt: new Date(now + propagateMs).toISOString(), propagateMs };
      changed({ ...roots, bundleIndex: roots.bundleIndex + 1, next }, `root rotation started: members now trust ${fingerprint} too; new leaves come from it after ${next.switchAt} once every member holds it`);
      return status();
    },
    status,
    onChange: (cb) => void listeners.push(cb),
    stop: () => {
      clearInterval(timer);
      for (const w of waiters) w.done();
    },
  };
}
