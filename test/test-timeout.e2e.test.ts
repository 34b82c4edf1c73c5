// The suite's per-test timeout is what `npm test` passes to bun test. bunfig.toml's `[test] timeout` is not a key
// Bun reads (1.4.4: every test without its own timeout had 5 s), and a 3.3 s unit test timed out on a loaded machine.
import { expect, test } from "bun:test";
import { join } from "node:path";
import pkg from "../package.json" with { type: "json" };

const ROOT = join(import.meta.dir, "..");

test("npm test's bun test command gives a test without its own timeout more than Bun's default 5 s", async () => {
  // "bun test --timeout N; s=$?; ..." -> the flags of its first command.
  const first = pkg.scripts.test.split(";")[0]!.trim().split(/\s+/);
  expect(first.slice(0, 2)).toEqual(["bun", "test"]);
  const p = Bun.spawn([process.execPath, "test", ...first.slice(2), "./test/support/slow-test.fixture.ts"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  expect({ code, tail: `${out}${err}`.split("\n").slice(-6).join("\n") }).toMatchObject({ code: 0 });
  expect(err).toMatch(/\b1 pass\b/);
}, 30_000);
