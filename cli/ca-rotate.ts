// `meshctl ca status|rotate`: the CA's roots and a root rotation, through the CA's admin API on the CA host.
// `rotate` only starts it: the CA switches signing once every member holds the new root, and retires the old one later.
import { parseArgs } from "node:util";
import { parseLifetime } from "../member/flags.ts";
import { caAdminFromState, DEFAULT_CA_STATE, type CaTrustStatus } from "./ca-admin-client.ts";

export const CA_USAGE = `  ca status                 the CA's roots (signing / next / retiring), the rotation phase and members still
                            lacking a new root
  ca rotate [--propagate 60s]
                            start a root rotation: members trust old + new roots at once; after --propagate, and
                            once every member seen in the last minute holds the new root, new leaves come from it;
                            the old root leaves the bundle when the last leaf it signed expires
        (on the CA host, with --ca-state / --ca-admin as for token)`;

type Out = { json: boolean; print(human: string, data: unknown): void };

export function formatTrustStatus(s: CaTrustStatus): string {
  const lines = [`phase ${s.phase}, bundle index ${s.bundleIndex}, signing root ${s.signingRoot}`];
  for (const r of s.roots) {
    const when = r.role === "next" ? `  switch at ${r.switchAt}` : r.leavesValidUntil === undefined ? "" : `  leaves valid until ${r.leavesValidUntil}`;
    lines.push(`  ${r.role.padEnd(8)} ${r.fingerprint}${when}`);
  }
  lines.push(`members seen in the last minute: ${s.members.seen}${s.members.behind.length === 0 ? "" : `; without the new root yet: ${s.members.behind.map((m) => m.spiffeId).join(", ")}`}`);
  return lines.join("\n");
}

export async function runCa(argv: string[], out: Out): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { propagate: { type: "string" }, "ca-state": { type: "string" }, "ca-admin": { type: "string" }, json: { type: "boolean" } },
  });
  const state = values["ca-state"] ?? process.env.MESH_CA_STATE ?? DEFAULT_CA_STATE;
  const admin = () => caAdminFromState(state, values["ca-admin"] ?? process.env.MESH_CA_ADMIN);
  switch (positionals[0]) {
    case "status": {
      const s = await admin().status();
      return out.print(formatTrustStatus(s), s);
    }
    case "rotate": {
      const propagateSeconds = parseLifetime("propagate", values.propagate ?? "60s") / 1000;
      const s = await admin().rotate({ propagateSeconds });
      return out.print(`root rotation started\n${formatTrustStatus(s)}`, s);
    }
    default:
      throw new Error(`usage:\n${CA_USAGE}`);
  }
}
