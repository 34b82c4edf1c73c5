// Polls a condition until it holds and says how long that took: for tests that wait on something propagating.
// Fails with a clear error instead of hanging when the condition never comes true.
export async function until(check: () => Promise<boolean>, timeoutMs = 5000, everyMs = 20): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (await check()) return performance.now() - started;
    await Bun.sleep(everyMs);
  }
  throw new Error(`condition not reached within ${timeoutMs} ms`);
}
