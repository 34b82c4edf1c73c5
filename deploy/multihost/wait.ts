// Polling until something has propagated (Consul health, a member's routes, its trust bundle), with a timeout
// that names what never happened; returns how long it took.

export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000, everyMs = 100): Promise<number> {
  const started = performance.now();
  let lastError = "";
  while (performance.now() - started < timeoutMs) {
    try {
      if (await check()) return performance.now() - started;
      lastError = "";
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    await Bun.sleep(everyMs);
  }
  throw new Error(`${what}: not reached within ${timeoutMs} ms${lastError === "" ? "" : ` (last error: ${lastError})`}`);
}
