// The command line of a one-scenario bench tool (ab.ts, alloc.ts, profile.ts): --help/--version answered before
// anything starts, strict parsing, and a usage error (exit 2, with the tool's usage) for anything it refuses.
import { parseArgs } from "node:util";
import { SCENARIOS, type ScenarioName } from "./args.ts";
import { answerHelpOrVersion, exitUsage, valueFlagsOf } from "../../member/cli.ts";

type OptionTable = Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }>;
type Values<O extends OptionTable> = ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true }>>["values"];

/** The parsed flags; `check` may throw to refuse a combination, reported as a usage error like an unknown flag. */
export function parseToolArgs<O extends OptionTable>(tool: string, options: O, usage: string, check?: (values: Values<O>) => void): Values<O> {
  const argv = process.argv.slice(2);
  // Before anything is started or created: asking for help must never run a bench.
  answerHelpOrVersion(argv, usage, valueFlagsOf(options));
  try {
    const { values } = parseArgs({ args: argv, options, strict: true });
    check?.(values);
    return values;
  } catch (err) {
    exitUsage(tool, err, usage);
  }
}

/** `--scenario` (default sidecar-pair), one this tool can run: a usage error naming the ones it can, otherwise. */
export function scenarioArg(tool: string, value: string | undefined, excluded: readonly ScenarioName[], usage: string): ScenarioName {
  const scenario = (value ?? "sidecar-pair") as ScenarioName;
  if (SCENARIOS.includes(scenario) && !excluded.includes(scenario)) return scenario;
  exitUsage(tool, new Error(`--scenario must be one of ${SCENARIOS.filter((s) => !excluded.includes(s)).join(", ")}`), usage);
}
