// Publishes which config this member has applied to Consul KV (mesh-status/<id>), with its leaf's validity, so
// `meshctl status` and `meshctl check` can show it for every VM. Never on the request path; failures are only logged.
import type { LiveSnapshot } from "../shared/build/live.ts";
import { consulClient } from "./consul/client.ts";
import { leafValidity } from "./leaf-validity.ts";

type Log = { warn(o: object, msg: string): void };

/** Republished this often even without a change: the leaf renews and `reportedAt` tells a quiet member from a gone one. */
export const REPORT_INTERVAL_MS = 5 * 60_000;

export function startStatusReport(o: { consul: string; token: string | undefined; id: string; live: LiveSnapshot; log: Log; certificate?: () => string; intervalMs?: number }): { remove(): Promise<void> } {
  const consul = consulClient(o.consul, o.token);
  // The raw id: the client escapes the key in the URL and Consul stores it unescaped, as before.
  const key = `mesh-status/${o.id}`;
  const timeout = 3000;
  const publish = (): void => {
    const s = o.live.status();
    const leaf = o.certificate === undefined ? undefined : leafValidity(o.certificate());
    const value = JSON.stringify({
      config: s.version, source: s.source, appliedAt: s.appliedAt, rejected: s.rejected.length + s.rejectedDocuments.length,
      reportedAt: new Date().toISOString(),
      ...(leaf === undefined ? {} : { certNotBefore: leaf.notBefore.toISOString(), certNotAfter: leaf.notAfter.toISOString() }),
    });
    consul.kv.set({ key, value, timeout }).catch((err: unknown) => o.log.warn({ err: String(err) }, "could not publish config status to consul"));
  };
  publish();
  o.live.onApply(publish);
  const timer = setInterval(publish, o.intervalMs ?? REPORT_INTERVAL_MS);
  timer.unref();
  return {
    async remove() {
      clearInterval(timer);
      await consul.kv.del({ key, timeout }).catch(() => undefined);
    },
  };
}
