// What every entry point says and returns the same way: the exit codes, the `--version` line, and answering
// `--help` / `--version` before anything starts (docs/cli.md is the operator's side of this file).
import pkg from "../package.json" with { type: "json" };

/**
 * One meaning per code across the daemons, meshctl, the CA, the demo and the benches, so scripts and systemd can
 * tell "fix the command line" from "go look at Consul".
 */
export const EXIT = {
  ok: 0,
  /** A check ran and found a problem: an invalid config file, a denied authz check, a missing key, a failed step. */
  problem: 1,
  /** The command line is wrong: unknown flag or command, a missing or malformed value. */
  usage: 2,
  /** Something this command depends on did not answer: Consul, the CA. */
  unreachable: 3,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Thrown for a bad command line; entry points turn it into exit 2 with the usage text. */
export class UsageError extends Error {}

/** node:util parseArgs throws TypeErrors with ERR_PARSE_ARGS_* codes: those are usage errors too. */
export function isUsageError(err: unknown): boolean {
  if (err instanceof UsageError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_");
}

const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "ENOTFOUND", "ConnectionRefused", "FailedToOpenSocket"]);

/**
 * A network failure reaching a dependency (the CA, Consul) at start: exit 3, not 1, so an operator or systemd can
 * tell "the CA is down" from "this member is misconfigured". Refusals the CA answered with are not this.
 */
export function isUnreachable(err: unknown): boolean {
  const e = err as { code?: unknown; name?: unknown; cause?: unknown } | null;
  if (e === null || typeof e !== "object") return false;
  if (typeof e.code === "string" && UNREACHABLE_CODES.has(e.code)) return true;
  if (e.name === "TimeoutError") return true;
  return e.cause !== undefined && e.cause !== err && isUnreachable(e.cause);
}

/** `vm-mesh 0.1.0 (bun 1.4.4)`: the package version plus the runtime actually running it. */
export function versionText(): string {
  const v = (globalThis as { process?: { versions?: Record<string, string | undefined> } }).process?.versions ?? {};
  const runtime = v.bun !== undefined ? `bun ${v.bun}` : v.deno !== undefined ? `deno ${v.deno}` : v.node !== undefined ? `node ${v.node}` : "unknown runtime";
  return `vm-mesh ${pkg.version} (${runtime})`;
}

/**
 * What argv asks for before any real work: "help", "version" or nothing. Only arguments before a bare `--` count,
 * and a value that follows a flag taking one is not mistaken for a flag (`--reason --help` is a reason).
 */
export function helpOrVersion(argv: readonly string[], takesValue: (flag: string) => boolean = () => false): "help" | "version" | undefined {
  let found: "help" | "version" | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") break;
    if (a === "--help" || a === "-h") found ??= "help";
    else if (a === "--version") found ??= "version";
    else if (a.startsWith("--") && !a.includes("=") && takesValue(a.slice(2))) i++;
  }
  return found;
}

/**
 * For entry points that start work as soon as they are loaded (benches, the demo): answer --help / --version and
 * exit 0 first, so asking for help never starts a process or opens a port.
 */
export function answerHelpOrVersion(argv: readonly string[], usage: string, takesValue?: (flag: string) => boolean): void {
  const asked = helpOrVersion(argv, takesValue);
  if (asked === undefined) return;
  console.log(asked === "help" ? usage : versionText());
  process.exit(EXIT.ok);
}

/** A usage error: the message and the usage on stderr, exit 2. */
export function exitUsage(prefix: string, err: unknown, usage: string): never {
  console.error(`${prefix}: ${err instanceof Error ? err.message : String(err)}\n${usage}`);
  process.exit(EXIT.usage);
}

/** For helpOrVersion: which flags of a node:util parseArgs option table take a value. */
export function valueFlagsOf(options: Record<string, { type: "string" | "boolean" }>): (flag: string) => boolean {
  return (flag) => options[flag]?.type === "string";
}
