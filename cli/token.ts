// `meshctl token create|list|revoke`: join tokens, through the CA's admin API on the CA host. `create` prints only
// the token on stdout (so `> echo.token` works) and what it is for on stderr; --json prints everything as JSON.
import { parseArgs } from "node:util";
import { parseLifetime as parseLifetimeFlag } from "../member/flags.ts";
import { UsageError } from "../member/cli.ts";
import { COMMANDS, flagsOf, parseOptions } from "./commands.ts";
import { caAdminFromState, DEFAULT_CA_STATE, type CaAdmin, type TokenInfo } from "./ca-admin-client.ts";

/** A malformed duration is a usage error (exit 2), not a problem found. */
function parseLifetime(name: string, raw: string): number {
  try {
    return parseLifetimeFlag(name, raw);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

type Out = { json: boolean; print(human: string, data: unknown): void };

function row(t: TokenInfo): string {
  return `${t.id}  ${t.state.padEnd(8)} uses left ${String(t.usesLeft).padEnd(4)} expires ${t.expiresAt}  ${t.spiffeId}`;
}

export async function runToken(argv: string[], out: Out): Promise<void> {
  const { values: raw, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    // The flags of every token subcommand, from the table the help and completion are made of.
    options: parseOptions([...flagsOf(COMMANDS.find((c) => c.name === "token")!), "admin-secret-file"]),
  });
  const values = raw as { service?: string; namespace?: string; ttl?: string; uses?: string; "ca-state"?: string; "ca-admin"?: string };
  const [sub, id] = positionals;
  const admin = (): CaAdmin => {
    const state = values["ca-state"] ?? process.env.MESH_CA_STATE ?? DEFAULT_CA_STATE;
    return caAdminFromState(state, values["ca-admin"] ?? process.env.MESH_CA_ADMIN);
  };
  switch (sub) {
    case "create": {
      if (values.service === undefined) throw new UsageError("--service NAME is required (meshctl token create --help)");
      const ttlSeconds = Math.round(parseLifetime("ttl", values.ttl ?? "1h") / 1000);
      const uses = Number(values.uses ?? "1");
      if (!Number.isInteger(uses) || uses < 1) throw new UsageError(`--uses: "${values.uses}" is not a whole number of at least 1`);
      const t = await admin().create({ service: values.service, ...(values.namespace === undefined ? {} : { namespace: values.namespace }), ttlSeconds, uses });
      if (!out.json) console.error(`join token ${t.id} for ${t.spiffeId}: ${t.usesLeft} use(s), expires ${t.expiresAt}`);
      return out.print(t.token, t);
    }
    case "list": {
      const tokens = await admin().list();
      return out.print(tokens.map(row).join("\n") || "(no join tokens)", tokens);
    }
    case "revoke": {
      if (id === undefined) throw new UsageError("usage: meshctl token revoke ID (the id from `meshctl token list`)");
      const t = await admin().revoke(id);
      return out.print(`revoked ${t.id} (${t.spiffeId})`, t);
    }
    default:
      throw new UsageError(sub === undefined ? "meshctl token: which subcommand? (create, list, revoke; meshctl token --help)" : `meshctl token: unknown subcommand "${sub}" (meshctl token --help)`);
  }
}
