// `meshctl ca status|rotate`: the CA's roots and a root rotation, through the CA's admin API on the CA host.
// `rotate` only starts it: the CA switches signing once every member holds the new root, and retires the old one later.
import { parseArgs } from "node:util";
import { parseLifetime as parseLifetimeFlag } from "../member/flags.ts";
import { UsageError } from "../member/cli.ts";
import { COMMANDS, flagsOf, parseOptions } from "./commands.ts";
import { caAdminFromState, DEFAULT_CA_STATE, type CaTrustStatus } from "./ca-admin-client.ts";

/** A malformed duration is a usage error (exit 2), not a problem found. */
function parseLifetime(name: string, raw: string): number {
  try {
    return parseLifetimeFlag(name, raw);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

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
  const { values: raw, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: parseOptions(flagsOf(COMMANDS.find((c) => c.name === "ca")!)),
  });
  const values = raw as { propagate?: string; "ca-state"?: string; "ca-admin"?: string };
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
      throw new UsageError(positionals[0] === undefined ? "meshctl ca: which subcommand? (status, rotate; meshctl ca --help)" : `meshctl ca: unknown subcommand "${positionals[0]}" (meshctl ca --help)`);
  }
}
