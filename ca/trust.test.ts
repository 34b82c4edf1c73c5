// The rotation state machine on a real state directory: the switch waits for members that lack the new root, the old
// root retires only after its last leaf ends, the phase survives a restart, and a switch cut short is finished on load.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { generateCaMaterial, loadCertificateAuthority } from "../shared/pki/ca-material.ts";
import { certificateFingerprint } from "../shared/pki/fingerprint.ts";
import { newWorkloadKey } from "../shared/pki/workload.ts";
import { chainRootFingerprint } from "../shared/pki/bundle.ts";
import { initState, readState } from "./state.ts";
import { initialRoots, loadRoots, ROOTS_FILE, type RootsFile } from "./roots-state.ts";
import { openCaTrust, type CaTrust } from "./trust.ts";

const TD = "mesh.local";
const ID = `spiffe://${TD}/ns/default/svc/echo`;
const quiet = () => {};

async function newCa(): Promise<{ dir: string; fp: string }> {
  const dir = join(mkdtempSync(join(tmpdir(), "ca-trust-")), "state");
  const m = await generateCaMaterial({ trustDomain: TD });
  const fp = await certificateFingerprint(m.rootCertPem);
  initState(dir, m, fp, { [ROOTS_FILE]: `${JSON.stringify(initialRoots(fp))}\n` });
  return { dir, fp };
}

async function open(dir: string): Promise<CaTrust> {
  const roots = await loadRoots(dir);
  return openCaTrust({ dir, roots, signer: await loadCertificateAuthority(readState(dir).material), log: quiet });
}

async function issue(t: CaTrust, ttlMs: number): Promise<string> {
  const { csrPem } = await newWorkloadKey(ID);
  const s = await t.signer().sign(csrPem, ID, { ttlMs });
  t.recordIssued(s.notAfter);
  return s.certChainPem;
}

const until = async (ok: () => boolean, ms: number): Promise<void> => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error("timed out");
    await Bun.sleep(50);
  }
};

describe("root rotation", () => {
  test("propagate, wait for a member that lacks the new root, switch, retire after the last old leaf", async () => {
    const { dir, fp } = await newCa();
    const t = await open(dir);
    try {
      const oldLeaf = await issue(t, 3000);
      t.memberSeen("m1", ID, t.state().index);
      const s = await t.startRotation(100);
      const next = s.roots.find((r) => r.role === "next")!.fingerprint;
      expect(s.phase).toBe("propagating");
      expect(t.state().rootFingerprints).toEqual([fp, next]);
      // m1 still holds the old index: the switch waits for it however long the propagation time was.
      await Bun.sleep(1500);
      expect(t.status().phase).toBe("propagating");
      expect(t.status().members.behind.map((m) => m.member)).toEqual(["m1"]);
      t.memberSeen("m1", ID, t.state().index);
      await until(() => t.status().phase === "switched", 3000);
      expect(t.state().signingRoot).toBe(next);
      const newLeaf = await issue(t, 60_000);
      expect(await chainRootFingerprint(newLeaf, t.bundlePem())).toBe(next);
      expect(await chainRootFingerprint(oldLeaf, t.bundlePem())).toBe(fp);
      // The old root stays while its 3 s leaf is valid, then leaves the bundle.
      expect(t.state().rootFingerprints).toEqual([next, fp]);
      await until(() => t.status().phase === "idle", 5000);
      expect(t.state().rootFingerprints).toEqual([next]);
      expect(readFileSync(join(dir, "root.pem"), "utf8")).toBe(t.signer().trustBundlePem());
      expect(existsSync(join(dir, "retired", fp.slice(7, 23), "root.key"))).toBe(true);
    } finally {
      t.stop();
    }
  }, 20_000);

  test("the phase survives a restart; a second rotation is refused while one runs or an old root retires", async () => {
    const { dir } = await newCa();
    const t1 = await open(dir);
    await issue(t1, 2000);
    const s = await t1.startRotation(60_000);
    await expect(t1.startRotation(1000)).rejects.toThrow("already propagating");
    t1.stop();
    const t2 = await open(dir);
    try {
      expect(t2.status().phase).toBe("propagating");
      expect(t2.state().index).toBe(s.bundleIndex);
      expect(t2.state().rootFingerprints).toEqual(s.roots.map((r) => r.fingerprint));
    } finally {
      t2.stop();
    }
  });

  test("a switch cut short after roots.json was written is finished when the CA loads its state", async () => {
    const { dir, fp } = await newCa();
    const t = await open(dir);
    await t.startRotation(60_000);
    const next = t.status().roots.find((r) => r.role === "next")!.fingerprint;
    t.stop();
    // What switchOnDisk writes first, then a crash after moving only the root certificate.
    const r = JSON.parse(readFileSync(join(dir, ROOTS_FILE), "utf8")) as RootsFile;
    const after: RootsFile = { version: 1, bundleIndex: r.bundleIndex + 1, signing: { fingerprint: next, leavesValidUntil: null }, retiring: [{ fingerprint: fp, rootCertPem: readFileSync(join(dir, "root.pem"), "utf8"), leavesValidUntil: new Date().toISOString() }] };
    await Bun.write(join(dir, ROOTS_FILE), JSON.stringify(after));
    renameSync(join(dir, "root.pem"), join(mkdtempSync(join(tmpdir(), "moved-")), "root.pem"));
    renameSync(join(dir, "next-root.pem"), join(dir, "root.pem"));
    const loaded = await loadRoots(dir);
    expect(loaded.signing.fingerprint).toBe(next);
    expect(existsSync(join(dir, "next-intermediate.key"))).toBe(false);
    const t2 = await open(dir);
    try {
      expect(t2.state().signingRoot).toBe(next);
      const leaf = await issue(t2, 60_000);
      expect(await chainRootFingerprint(leaf, t2.bundlePem())).toBe(next);
    } finally {
      t2.stop();
    }
  });
});
