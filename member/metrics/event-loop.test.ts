// The timer-drift sampler sees a blocked event loop: a 60 ms busy wait shows as a delay of about that much.
// Idle, the delays stay small; the window keeps at most its size.
import { expect, test } from "bun:test";
import { startEventLoopSampler } from "./event-loop.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("a blocked loop shows as delay; the window is bounded", async () => {
  const s = startEventLoopSampler({ intervalMs: 10, windowSamples: 50 });
  await sleep(50);
  const t = performance.now();
  while (performance.now() - t < 60) {} // block the loop
  await sleep(40);
  const r = s.read();
  s.stop();
  expect(Math.max(...r.window)).toBeGreaterThan(0.04);
  expect(r.count).toBeGreaterThan(3);
  expect(r.window.length).toBeLessThanOrEqual(50);
  expect(r.sum).toBeGreaterThan(0.04);
});
