// `meshctl token create|list|revoke`: join tokens, through the CA's admin API on the CA host. `create` prints only
// the token on stdout (so `> echo.token` works) and what it is for on stderr; --json prints everything as JSON.
import { parseArgs } from "node:util";
import { parseLifetime } from "../member/flags.ts";
import { caAdminFromState, DEFAULT_CA_STATE, type CaAdmin, type TokenInfo } from "./ca-admin-client.ts";

export const TOKEN_USAGE = `  token create --service NAME [--namespace default] [--ttl 1h] [--uses 1]
                            a join token for spiffe://TD/ns/NAMESPACE/svc/NAME, printed alone on stdout
  token list                every token the CA knows (id, identity, expiry, uses left, state); never the secret
  token revoke ID           refuse that token from now on
        (run on the CA host: --ca-state DIR (or MESH_CA_STATE, default ${DEFAULT_CA_STATE}) holds the admin secret
        and the running CA's admin address; --ca-admin URL overrides the address)`;

type Out = { json: boolean; print(human: string, data: unknown): void };

function row(t: TokenInfo): string {
  return `${t.id}  ${t.state.padEnd(8)} uses left ${String(t.usesLeft).padEnd(4)} expires ${t.expiresAt}  ${t.spiffeId}`;
}

export async function runToken(argv: string[], out: Out): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      service: { type: "string" }, namespace: { type: "string" }, ttl: { type: "string" }, uses: { type: "string" },
      "ca-state": { type: "string" }, "ca-admin": { type: "string" }, "admin-secret-file": { type: "string" }, json: { type: "boolean" },
    },
  });
  const [sub, id] = positionals;
  const admin = (): CaAdmin => {
    const state = values["ca-state"] ?? process.env.MESH_CA_STATE ?? DEFAULT_CA_STATE;
    return caAdminFromState(state, values["ca-admin"] ?? process.env.MESH_CA_ADMIN);
  };
  switch (sub) {
    case "create": {
      if (values.service === undefined) throw new Error(`--service NAME is required\n${TOKEN_USAGE}`);
      const ttlSeconds = Math.round(parseLifetime("ttl", values.ttl ?? "1h") / 1000);
      const uses = Number(values.uses ?? "1");
      if (!Number.isInteger(uses) || uses < 1) throw new Error(`--uses: "${values.uses}" is not a whole number of at least 1`);
      const t = await admin().create({ service: values.service, ...(values.namespace === undefined ? {} : { namespace: values.namespace }), ttlSeconds, uses });
      if (!out.json) console.error(`join token ${t.id} for ${t.spiffeId}: ${t.usesLeft} use(s), expires ${t.expiresAt}`);
      return out.print(t.token, t);
    }
    case "list": {
      const tokens = await admin().list();
      return out.print(tokens.map(row).join("\n") || "(no join tokens)", tokens);
    }
    case "revoke": {
      if (id === undefined) throw new Error("usage: meshctl token revoke ID (the id from `meshctl token list`)");
      const t = await admin().revoke(id);
      return out.print(`revoked ${t.id} (${t.spiffeId})`, t);
    }
    default:
      throw new Error(`usage:\n${TOKEN_USAGE}`);
  }
}
