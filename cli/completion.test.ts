// The completion scripts come from the command table: every command and flag meshctl parses is offered, and the
// bash script is valid bash.
import { expect, test } from "bun:test";
import { completionScript, SHELLS } from "./completion.ts";
import { COMMANDS, commandWords, findCommand, flagsOf } from "./commands.ts";
import { helpFor } from "./help.ts";

test("each shell gets a script naming every command and flag", () => {
  for (const shell of SHELLS) {
    const script = completionScript(shell);
    for (const c of COMMANDS) {
      expect(script).toContain(c.name);
      for (const f of flagsOf(c)) expect(script).toContain(shell === "fish" ? `-l ${f}` : `--${f}`);
    }
  }
});

test("bash -n accepts the bash script", () => {
  const r = Bun.spawnSync(["bash", "-n"], { stdin: new TextEncoder().encode(completionScript("bash")) });
  expect(r.stderr.toString()).toBe("");
  expect(r.exitCode).toBe(0);
});

test("help pages: one per command and subcommand, each with its flags; flag values are not taken for commands", () => {
  expect(commandWords(["--consul", "x", "apply", "-f", "m.yaml", "--help"])).toEqual(["apply"]);
  expect(findCommand(["token", "create"]).path.map((c) => c.name)).toEqual(["token", "create"]);
  expect(helpFor(findCommand(["apply"]).path)).toContain("--kv-prefix PREFIX");
  expect(helpFor(findCommand(["apply"]).path)).toContain("examples:");
  expect(helpFor([])).toContain("exit codes: 0 ok, 1 problem found");
});
