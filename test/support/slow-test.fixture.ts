// Run only by test/test-timeout.e2e.test.ts (not a *.test.ts file, so `bun test` never picks it up on its own):
// one test that outlives Bun's default 5 s per-test timeout, as the slowest unit tests do on a loaded CI machine.
import { expect, test } from "bun:test";

test("outlives bun's default 5 s timeout", async () => {
  await Bun.sleep(5_300);
  expect(true).toBe(true);
});
