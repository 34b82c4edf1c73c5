// meshctl's commands and flags as one table: the parser's options, every help page and the shell completion
// scripts are generated from it, so a flag cannot be parsed without being documented or completed.
import { DEFAULT_CA_STATE } from "./ca-admin-client.ts";

export type FlagSpec = {
  readonly short?: string;
  /** The placeholder shown in help; a flag without one is a switch. */
  readonly value?: string;
  readonly multiple?: boolean;
  readonly help: string;
  /** Values the completion offers. */
  readonly choices?: readonly string[];
};

export type CommandSpec = {
  readonly name: string;
  /** Positional arguments as shown in help, e.g. "KIND NAME". */
  readonly args?: string;
  readonly summary: string;
  /** More lines for the command's own help page. */
  readonly details?: readonly string[];
  readonly flags: readonly FlagName[];
  readonly examples: readonly string[];
  readonly subcommands?: readonly CommandSpec[];
  /** Words the completion offers for the first positional argument. */
  readonly argChoices?: readonly string[];
};

const KINDS = ["settings", "services", "routes", "gateway", "authorization"] as const;

const FLAG_TABLE = {
  consul: { value: "ADDR", help: "Consul agent HTTP address (default CONSUL_HTTP_ADDR, else http://127.0.0.1:8500)" },
  "kv-prefix": { value: "PREFIX", help: "KV prefix of the mesh's documents, as the daemons' --kv-prefix (default mesh/, or MESH_KV_PREFIX)" },
  prefix: { value: "PREFIX", help: "alias of --kv-prefix" },
  json: { help: "print JSON for machines (errors too)" },
  help: { short: "h", help: "print this help and exit 0" },
  version: { help: "print the vm-mesh and runtime versions and exit 0" },
  file: { short: "f", value: "FILE", help: "a mesh file (the same model as the sidecar's --config)" },
  "dry-run": { help: "print what apply would change; write nothing" },
  confirm: { help: "also write <prefix>confirmed: members take this set even if it has fewer documents than they hold" },
  reason: { value: "TEXT", help: "why, stored in the confirm marker" },
  yes: { help: "really delete every document" },
  "max-document-bytes": { value: "N", help: "per-document size limit (default 524288, or MESH_KV_MAX_DOCUMENT_BYTES)" },
  from: { value: "SVC|SPIFFE-ID", help: "the caller (default: an unauthenticated plaintext caller)" },
  to: { value: "SVC", help: "the service whose inbound authorization decides" },
  header: { short: "H", value: "'NAME: VALUE'", multiple: true, help: "a request header (repeatable)" },
  service: { value: "NAME", help: "the service the token lets a member join as" },
  namespace: { value: "NS", help: "the identity's namespace (default default)" },
  ttl: { value: "DURATION", help: "how long the token is valid, e.g. 30m, 1h, 7d (default 1h)" },
  uses: { value: "N", help: "how many joins the token allows (default 1)" },
  "ca-state": { value: "DIR", help: `the CA's state directory (or MESH_CA_STATE, default ${DEFAULT_CA_STATE})` },
  "ca-admin": { value: "URL", help: "the CA admin API (default: the address the running CA wrote into --ca-state)" },
  "admin-secret-file": { value: "FILE", help: "accepted for compatibility; the secret is read from --ca-state" },
  propagate: { value: "DURATION", help: "how long members get to fetch the new root before leaves come from it (default 60s)" },
  host: { value: "HOST", help: "the request's Host (the service name for mesh routes)" },
  path: { value: "PATH", help: "the request path, with ?query if any" },
  method: { value: "METHOD", help: "the request method (default GET)" },
  gateway: { help: "the gateway's routes instead of the mesh routes an outbound sidecar uses" },
  against: { value: "FILE", help: "compare with this mesh file instead of the live config in KV" },
  ca: { value: "URL", help: "the CA to check, https://HOST:PORT (or MESH_CA)" },
  "ca-fingerprint": { value: "sha256:HEX", help: "the pinned root the CA must serve (or MESH_CA_FINGERPRINT)" },
  stale: { value: "MINUTES", help: "a member behind its peers' config for longer than this FAILs (default 10)" },
} as const satisfies Record<string, FlagSpec>;
export type FlagName = keyof typeof FLAG_TABLE;
export const FLAGS: Readonly<Record<FlagName, FlagSpec>> = FLAG_TABLE;

/** Where the documents live: every Consul command takes these. */
const KV: readonly FlagName[] = ["consul", "kv-prefix", "prefix", "json"];
const CA_HOST: readonly FlagName[] = ["ca-state", "ca-admin", "json"];

export const COMMANDS: readonly CommandSpec[] = [
  { name: "validate", summary: "check a mesh file; exit 1 with file:path: reason per problem", flags: ["file", "max-document-bytes", "json"], examples: ["meshctl validate -f deploy/examples/demo.yaml"] },
  {
    name: "apply", summary: "validate, then write each document to Consul KV with check-and-set",
    details: ["a plain apply removes the confirm marker that --confirm or teardown wrote"],
    flags: ["file", "dry-run", "confirm", "reason", "max-document-bytes", ...KV],
    examples: ["meshctl apply -f mesh.yaml --dry-run", "meshctl apply -f mesh.yaml --consul 10.0.0.5:8500 --kv-prefix prod/"],
  },
  { name: "diff", summary: "what apply would change", flags: ["file", "max-document-bytes", ...KV], examples: ["meshctl diff -f mesh.yaml"] },
  { name: "get", args: "[KIND [NAME]]", summary: "list the documents, or print one (KIND: settings, services, routes, gateway, authorization)", flags: KV, argChoices: KINDS, examples: ["meshctl get", "meshctl get routes echo-split"] },
  { name: "delete", args: "KIND NAME", summary: "remove one document; exit 1 if it does not exist", flags: KV, argChoices: KINDS, examples: ["meshctl delete routes echo-split"] },
  {
    name: "teardown", summary: "delete every document and write <prefix>confirmed: members apply an empty mesh",
    details: ["an empty prefix without the marker is held as lost config; a plain apply removes the marker"],
    flags: ["yes", "reason", ...KV], examples: ["meshctl teardown --yes --reason 'decommission staging'"],
  },
  {
    name: "status", summary: "every registered sidecar and gateway: health and the config it has applied",
    details: ["with --kv-prefix (or --prefix, MESH_KV_PREFIX): only members whose live config comes from that prefix"],
    flags: KV, examples: ["meshctl status", "meshctl status --kv-prefix prod/ --json"],
  },
  {
    name: "authz", summary: "explain an authorization verdict", flags: [],
    examples: [],
    subcommands: [{
      name: "check", args: "METHOD PATH", summary: "the verdict of SVC's inbound authorization and the rule that decided it; exit 1 = deny",
      details: ["against the live config in KV, or FILE with -f"],
      flags: ["from", "to", "header", "file", ...KV], examples: ["meshctl authz check --from web --to echo GET /items", "meshctl authz check --to echo GET /admin -H 'x-debug: 1' -f mesh.yaml"],
    }],
  },
  {
    name: "token", summary: "join tokens, through the CA's admin API (run on the CA host)", flags: [], examples: [],
    subcommands: [
      { name: "create", summary: "a join token for spiffe://TD/ns/NAMESPACE/svc/NAME, printed alone on stdout", flags: ["service", "namespace", "ttl", "uses", ...CA_HOST], examples: ["meshctl token create --service echo --ttl 30m > echo.token"] },
      { name: "list", summary: "every token the CA knows (id, identity, expiry, uses left, state); never the secret", flags: CA_HOST, examples: ["meshctl token list --ca-state /var/lib/mesh-ca"] },
      { name: "revoke", args: "ID", summary: "refuse that token from now on", flags: CA_HOST, examples: ["meshctl token revoke 3f2a9c"] },
    ],
  },
  {
    name: "ca", summary: "the CA's roots and root rotation, through its admin API (run on the CA host)", flags: [], examples: [],
    subcommands: [
      { name: "status", summary: "the roots (signing / next / retiring), the rotation phase and members lacking a new root", flags: CA_HOST, examples: ["meshctl ca status"] },
      {
        name: "rotate", summary: "start a root rotation: members trust old + new roots at once",
        details: ["after --propagate, and once every member seen in the last minute holds the new root, new leaves come from it;", "the old root leaves the bundle when the last leaf it signed expires"],
        flags: ["propagate", ...CA_HOST], examples: ["meshctl ca rotate --propagate 5m"],
      },
    ],
  },
  {
    name: "check", summary: "a doctor: Consul, its clock, the config in KV, every member, the CA; one PASS|WARN|FAIL|INFO line each",
    details: ["exit 0 when nothing FAILs (warnings allowed), 1 on any FAIL, 3 when Consul does not answer"],
    flags: ["ca", "ca-fingerprint", "stale", ...KV], examples: ["meshctl check", "meshctl check --ca https://10.0.0.2:8443 --ca-fingerprint sha256:… --json"],
  },
  {
    name: "proxy-config", args: "MEMBER-ID", summary: "the config a member has applied, as it published it (mesh-status/<id>): source, version, rejections",
    details: ["exit 1 when the member published nothing (the known ids are listed)"],
    flags: KV, examples: ["meshctl proxy-config upstream-a", "meshctl proxy-config gateway-1 --json"],
  },
  {
    name: "explain", summary: "dry-run one request: the route and why not the others, path verdict, split, clusters, policy, fast path, authorization",
    details: ["against the live config in KV (and Consul's passing instances), or FILE with -f", "exit 0 routed and allowed, 1 no route / refused path / denied"],
    flags: ["host", "path", "method", "header", "from", "gateway", "file", ...KV],
    examples: ["meshctl explain --host echo --path /echo", "meshctl explain --host echo --path /x -H 'x-canary: 1' --from web -f mesh.yaml --json"],
  },
  {
    name: "what-if", summary: "what a mesh file would change against the live config: routes, services, authorization, and requests routed differently",
    details: ["exit 0 no changes, 1 changes (like diff)"],
    flags: ["file", "against", ...KV], examples: ["meshctl what-if -f deploy/examples/echo-50-50.yaml", "meshctl what-if -f next.yaml --against current.yaml"],
  },
  { name: "completion", args: "bash|zsh|fish", summary: "print a shell completion script", flags: [], argChoices: ["bash", "zsh", "fish"], examples: ["meshctl completion bash > /etc/bash_completion.d/meshctl", "meshctl completion fish > ~/.config/fish/completions/meshctl.fish"] },
  { name: "help", args: "[COMMAND]", summary: "help for a command (the same as COMMAND --help)", flags: [], examples: ["meshctl help apply"] },
];

/** help and version are accepted everywhere. */
export const EVERYWHERE: readonly FlagName[] = ["help", "version"];

/** The command a word path names: ["token", "create"] → token create; stops at the deepest match. */
export function findCommand(words: readonly string[]): { path: CommandSpec[]; rest: string[] } {
  const path: CommandSpec[] = [];
  let list: readonly CommandSpec[] | undefined = COMMANDS;
  let i = 0;
  for (; i < words.length && list !== undefined; i++) {
    const next: CommandSpec | undefined = list.find((c) => c.name === words[i]);
    if (next === undefined) break;
    path.push(next);
    list = next.subcommands;
  }
  return { path, rest: words.slice(i) };
}

/** node:util parseArgs options for a set of flags. */
export function parseOptions(names: readonly FlagName[]): Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> {
  const out: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {};
  for (const n of new Set([...names, ...EVERYWHERE])) {
    const f: FlagSpec = FLAGS[n];
    out[n] = { type: f.value === undefined ? "boolean" : "string", ...(f.short === undefined ? {} : { short: f.short }), ...(f.multiple ? { multiple: true } : {}) };
  }
  return out;
}

/** Every flag of a command and its subcommands (what parseArgs accepts for that command word). */
export function flagsOf(c: CommandSpec): FlagName[] {
  return [...new Set([...c.flags, ...(c.subcommands ?? []).flatMap(flagsOf)])];
}

export function takesValue(flag: string): boolean {
  return (FLAGS as Record<string, FlagSpec>)[flag]?.value !== undefined;
}

/** The leading words of argv that are not flags or flag values: the command path asked for. */
export function commandWords(argv: readonly string[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") break;
    if (a.startsWith("-")) {
      const name = a.replace(/^-+/, "").split("=")[0]!;
      const long = a.startsWith("--") ? name : Object.entries(FLAGS).find(([, f]) => (f as FlagSpec).short === name)?.[0];
      if (!a.includes("=") && long !== undefined && takesValue(long)) i++;
      continue;
    }
    words.push(a);
  }
  return words;
}
