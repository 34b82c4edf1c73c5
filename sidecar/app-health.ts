// Probes the app's own health endpoint so the sidecar's /ready (and so Consul's check) reflects the app:
// an unhealthy app leaves rotation without the sidecar going anywhere.
type Log = { info(o: object, msg: string): void; warn(o: object, msg: string): void };

export type AppHealth = { healthy(): boolean; stop(): void; /** Settles after the first probe. */ first: Promise<void> };

/** Without a path the app counts as healthy (nothing to probe); with one, a 2xx within 1 s is healthy. */
export function startAppHealth(o: { address: string; port: number; path: string | undefined; intervalMs?: number; log: Log }): AppHealth {
  if (o.path === undefined) return { healthy: () => true, stop: () => {}, first: Promise.resolve() };
  const url = `http://${o.address}:${o.port}${o.path.startsWith("/") ? o.path : `/${o.path}`}`;
  let healthy = false;
  const probe = async (): Promise<void> => {
    let ok = false;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      ok = res.status >= 200 && res.status < 300;
      await res.body?.cancel();
    } catch {
      ok = false;
    }
    if (ok !== healthy) o.log[ok ? "info" : "warn"]({ url }, ok ? "app healthy" : "app unhealthy; leaving rotation");
    healthy = ok;
  };
  const first = probe();
  const timer = setInterval(() => void probe(), o.intervalMs ?? 2000);
  timer.unref();
  return { healthy: () => healthy, stop: () => clearInterval(timer), first };
}
