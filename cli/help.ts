// meshctl's help pages, rendered from the command table (cli/commands.ts): the overview and one page per command
// and subcommand, each with its flags and an example or two.
import { COMMANDS, FLAGS, type CommandSpec, type FlagName, type FlagSpec } from "./commands.ts";

const EXIT_CODES = "exit codes: 0 ok, 1 problem found (invalid file, deny, not found), 2 usage error, 3 Consul or the CA unreachable";

function flagLine(name: FlagName): [string, string] {
  const f: FlagSpec = FLAGS[name];
  const left = `${f.short === undefined ? "    " : `-${f.short}, `}--${name}${f.value === undefined ? "" : ` ${f.value}`}`;
  return [left, f.help];
}

function columns(rows: Array<[string, string]>, indent = "  "): string[] {
  const width = Math.min(34, Math.max(...rows.map(([l]) => l.length)) + 2);
  return rows.map(([l, r]) => (l.length + 2 > width ? `${indent}${l}\n${indent}${" ".repeat(width)}${r}` : `${indent}${l.padEnd(width)}${r}`));
}

export function overview(): string {
  const rows: Array<[string, string]> = [];
  for (const c of COMMANDS) {
    if (c.subcommands === undefined) rows.push([`${c.name}${c.args === undefined ? "" : ` ${c.args}`}`, c.summary]);
    else for (const s of c.subcommands) rows.push([`${c.name} ${s.name}${s.args === undefined ? "" : ` ${s.args}`}`, s.summary]);
  }
  return [
    "usage: meshctl <command> [flags]   (npm run meshctl -- <command> [flags])",
    "",
    "commands:",
    ...columns(rows),
    "",
    "flags every Consul command takes:",
    ...columns((["consul", "kv-prefix", "json"] as const).map(flagLine)),
    ...columns([["-h, --help", "help (meshctl COMMAND --help for one command)"], ["    --version", FLAGS.version.help]]),
    "",
    "examples:",
    "  meshctl validate -f mesh.yaml && meshctl apply -f mesh.yaml --dry-run",
    "  meshctl status --kv-prefix prod/",
    "",
    EXIT_CODES,
  ].join("\n");
}

export function commandHelp(path: readonly CommandSpec[]): string {
  const c = path[path.length - 1]!;
  const name = `meshctl ${path.map((p) => p.name).join(" ")}`;
  if (c.subcommands !== undefined) {
    return [
      `usage: ${name} <${c.subcommands.map((s) => s.name).join("|")}> [flags]`,
      c.summary,
      "",
      ...columns(c.subcommands.map((s) => [`${s.name}${s.args === undefined ? "" : ` ${s.args}`}`, s.summary])),
      "",
      `${name} <subcommand> --help for its flags`,
    ].join("\n");
  }
  const flags = c.flags.filter((f) => f !== "prefix");
  const synopsis = [name, c.args ?? "", ...flags.map((f) => `[--${f}${FLAGS[f].value === undefined ? "" : ` ${FLAGS[f].value}`}]`)].filter((s) => s !== "").join(" ");
  return [
    `usage: ${synopsis}`,
    c.summary,
    ...(c.details ?? []),
    ...(flags.length === 0 ? [] : ["", "flags:", ...columns(flags.map(flagLine))]),
    ...(c.examples.length === 0 ? [] : ["", "examples:", ...c.examples.map((e) => `  ${e}`)]),
    "",
    EXIT_CODES,
  ].join("\n");
}

/** Help for what the words name; the overview when they name nothing known. */
export function helpFor(path: readonly CommandSpec[]): string {
  return path.length === 0 ? overview() : commandHelp(path);
}
