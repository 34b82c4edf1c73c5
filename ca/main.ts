// Entry point of the CA: `ca init` makes a root and an intermediate in a state directory and prints the root's
// fingerprint; `ca serve` serves members over HTTPS and tokens on a loopback admin port; `ca fingerprint` prints it again.
import "reflect-metadata";
import { parseArgs } from "node:util";
import { join } from "node:path";
import { generateCaMaterial, loadCertificateAuthority } from "../shared/pki/ca-material.ts";
import { certificateFingerprint } from "../shared/pki/fingerprint.ts";
import { createTokenStore } from "../shared/pki/join-tokens.ts";
import { DEFAULTS } from "../shared/config/defaults.ts";
import { parsePort } from "../member/flags.ts";
import { readFileIfExists } from "../runtime/node/private-files.ts";
import { initState, readState, readTokenRecords, saveTokenRecords, STATE_FILES, writeAdminEndpoint } from "./state.ts";
import { startCaService, type CaService } from "./server.ts";
import { initialRoots, loadRoots, ROOTS_FILE } from "./roots-state.ts";
import { openCaTrust, type CaTrust } from "./trust.ts";
import { caLog } from "./http.ts";
import { EXIT, exitUsage, helpOrVersion, valueFlagsOf, versionText } from "../member/cli.ts";

const COMMON = `  --state DIR may also be given as MESH_CA_STATE
exit codes: 0 ok, 1 the CA could not do it (no CA in DIR, failed to start), 2 usage error`;

/** One page per command, each with an example; `ca --help` shows them all. */
const HELP: Record<string, string> = {
  init: `usage: bun run ca/main.ts init --state DIR [--trust-domain mesh.local]
  make a root and an intermediate in DIR (0700, files 0600) and print the root's fingerprint (sha256:...) that
  members pin with --ca-fingerprint
example:
  bun run ca/main.ts init --state /var/lib/mesh-ca --trust-domain prod.example`,
  serve: `usage: bun run ca/main.ts serve --state DIR [--address 127.0.0.1] [--port 8200] [--admin-port 8201] [--san NAME]...
  serve members over HTTPS on ADDRESS:PORT and the token admin API on 127.0.0.1:ADMIN-PORT (for meshctl token);
  port 0 = pick a free one; --san adds a name to the CA's server certificate (the name members dial)
example:
  bun run ca/main.ts serve --state /var/lib/mesh-ca --address 0.0.0.0 --san ca.internal`,
  fingerprint: `usage: bun run ca/main.ts fingerprint --state DIR
  print the root's fingerprint again (what members pin)
example:
  bun run ca/main.ts fingerprint --state /var/lib/mesh-ca`,
};
const USAGE = `usage: bun run ca/main.ts <init|serve|fingerprint> [flags]   (ca <command> --help for one command)

${Object.values(HELP).join("\n\n")}

${COMMON}`;

function fail(msg: string, code: number = EXIT.usage): never {
  caLog("fatal", msg);
  process.exit(code);
}

const OPTIONS = {
  state: { type: "string" }, "trust-domain": { type: "string" }, address: { type: "string" }, port: { type: "string" },
  "admin-port": { type: "string" }, san: { type: "string", multiple: true }, help: { type: "boolean", short: "h" }, version: { type: "boolean" },
} as const;

// Help and version first, on stdout, exit 0 (before the fatal-JSON path below, which is for the daemon's log).
const argv = process.argv.slice(2);
const asked = helpOrVersion(argv, valueFlagsOf(OPTIONS));
if (asked !== undefined) {
  const named = argv.find((a) => a in HELP);
  console.log(asked === "version" ? versionText() : named === undefined ? USAGE : `${HELP[named]}\n\n${COMMON}`);
  process.exit(EXIT.ok);
}
let parsed: ReturnType<typeof parse>;
function parse() {
  return parseArgs({ args: argv, allowPositionals: true, strict: true, options: OPTIONS });
}
try {
  parsed = parse();
} catch (err) {
  exitUsage("ca", err, USAGE);
}
const { values, positionals } = parsed;
const command = positionals[0];
if (command === undefined) exitUsage("ca", "which command? (init, serve or fingerprint)", USAGE);
if (!(command in HELP)) exitUsage("ca", `unknown command "${command}"`, USAGE);
const state = values.state ?? process.env.MESH_CA_STATE;
if (state === undefined || state === "") exitUsage("ca", "--state DIR (or MESH_CA_STATE) is required", HELP[command]!);

switch (command) {
  case "init": {
    const trustDomain = values["trust-domain"] ?? DEFAULTS.trustDomain;
    try {
      const material = await generateCaMaterial({ trustDomain });
      const fingerprint = await certificateFingerprint(material.rootCertPem);
      initState(state, material, fingerprint, { [ROOTS_FILE]: `${JSON.stringify(initialRoots(fingerprint), null, 2)}\n` });
      console.error(`CA for trust domain ${trustDomain} initialized in ${state}; back this directory up (it holds the root key).`);
      console.error(`Members pin this root with --ca-fingerprint (or MESH_CA_FINGERPRINT):`);
      console.log(fingerprint);
    } catch (err) {
      fail(`ca init failed: ${err instanceof Error ? err.message : String(err)}`, EXIT.problem);
    }
    break;
  }
  case "fingerprint": {
    const root = readFileIfExists(join(state, STATE_FILES.rootCert));
    if (root === undefined) fail(`no CA in ${state}: run \`ca init --state ${state}\` first`, EXIT.problem);
    console.log(await certificateFingerprint(root));
    break;
  }
  case "serve":
    await serve(state);
    break;
  default:
    exitUsage("ca", `unknown command "${command}"`, USAGE);
}

async function serve(dir: string): Promise<void> {
  let port = 0;
  let adminPort = 0;
  try {
    port = parsePort("port", values.port, 8200);
    adminPort = parsePort("admin-port", values["admin-port"], 8201);
  } catch (err) {
    exitUsage("ca serve", err, HELP.serve!);
  }
  const address = values.address ?? "127.0.0.1";
  let service: CaService;
  let trust: CaTrust;
  try {
    // Roots first: it finishes a rotation switch a crash cut short, before the active files are read.
    const roots = await loadRoots(dir);
    const s = readState(dir);
    for (const w of s.warnings) caLog("warn", w);
    const ca = await loadCertificateAuthority(s.material);
    trust = await openCaTrust({ dir, roots, signer: ca, log: caLog });
    const tokens = createTokenStore({ records: readTokenRecords(dir), save: (records) => saveTokenRecords(dir, records) });
    service = await startCaService({ trust, tokens, adminSecret: s.adminSecret, address, port, adminPort, sans: values.san ?? [], log: caLog });
    writeAdminEndpoint(dir, `http://127.0.0.1:${service.adminPort}`);
    const st = trust.status();
    console.log(JSON.stringify({
      msg: "ready", service: "ca", port: service.port, adminPort: service.adminPort, address, trustDomain: ca.trustDomain,
      rootFingerprint: st.signingRoot, rotation: st.phase, roots: st.roots.map((r) => `${r.role}:${r.fingerprint}`), serverCertNotAfter: service.serverNotAfter.toISOString(),
    }));
  } catch (err) {
    fail(`CA failed to start: ${err instanceof Error ? err.message : String(err)}`, EXIT.problem);
  }
  let stopping = false;
  const shutdown = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    trust.stop();
    await service.stop();
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown());
  process.on("SIGINT", () => void shutdown());
}
