// Step: a root rotation under load (`meshctl ca rotate --propagate 3s`): the CA goes propagating -> switched -> idle,
// and ends with one root, a new one, which every member then trusts alone and holds its leaf from.
import type { Step } from "../step.ts";
import { seconds, skipped, underLoad } from "../step.ts";
import { caStatus } from "../ca-host.ts";
import { memberInfo } from "../member-admin.ts";
import { waitFor } from "../wait.ts";
import { parseLifetime } from "../../../member/flags.ts";

export const rootRotation: Step = {
  name: "root-rotation",
  title: "rotate the root (meshctl ca rotate --propagate 3s)",
  run: async (c, o) => {
    const before = await caStatus(c.ca);
    if ("unavailable" in before) return skipped("root-rotation", `meshctl ca status is not available in this checkout (${before.unavailable})`);
    const original = before.signingRoot;
    const ttlMs = parseLifetime("cert-ttl", c.certTtl);
    return underLoad(c, o, "root-rotation", ["/echo", "/web"], async ({ mark }) => {
      const started = performance.now();
      const r = await c.ca.meshctl(["ca", "rotate", "--ca-state", c.ca.stateDir, "--propagate", "3s", "--json"]);
      if (r.code !== 0) throw new Error(`meshctl ca rotate failed (${r.code}): ${r.out}${r.err}`);
      mark("rotation started");
      const phases: Array<{ phase: string; atMs: number }> = [];
      let newRoot = "";
      // The old root leaves the bundle once the last leaf it signed has expired: about one leaf lifetime after the switch.
      await waitFor("the CA back to idle with a single new root", async () => {
        const s = await caStatus(c.ca);
        if ("unavailable" in s) return false;
        if (phases.at(-1)?.phase !== s.phase) {
          phases.push({ phase: s.phase, atMs: performance.now() - started });
          mark(`CA phase ${s.phase}: ${s.roots.map((x) => `${x.role} ${x.fingerprint.slice(0, 15)}`).join(", ")}`);
        }
        const only = s.roots.length === 1 ? s.roots[0]! : undefined;
        if (s.phase === "idle" && only !== undefined && only.fingerprint !== original) newRoot = only.fingerprint;
        return newRoot !== "";
      }, 3 * ttlMs + 60_000, 1000);
      const idleMs = performance.now() - started;
      const membersMs = await waitFor("every member trusts only the new root and holds a leaf from it", async () => {
        const infos = await Promise.all(c.admins().map((m) => memberInfo(c.net, m)));
        return infos.every((i) => JSON.stringify(i.trust?.bundleRoots) === JSON.stringify([newRoot]) && i.trust?.leafRoot === newRoot);
      }, 2 * ttlMs + 10_000, 500);
      mark(`all ${c.admins().length} members on the new root alone`);
      return {
        notes: [
          `phases ${phases.map((p) => `${p.phase}@${seconds(p.atMs)}`).join(" -> ")}; idle with one new root after ${seconds(idleMs)}`,
          `all ${c.admins().length} members trust only the new root and hold leaves from it ${seconds(membersMs)} later`,
        ],
        data: { original, newRoot, phases, idleMs },
      };
    });
  },
};
