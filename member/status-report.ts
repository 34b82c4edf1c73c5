// Publishes which config this member has applied to Consul KV (mesh-status/<id>), so `meshctl status` can show
// it for every VM. Written on each apply (rare), never on the request path; failures are only logged.
import type { LiveSnapshot } from "../shared/build/live.ts";

type Log = { warn(o: object, msg: string): void };

export function startStatusReport(o: { consul: string; token: string | undefined; id: string; live: LiveSnapshot; log: Log }): { remove(): Promise<void> } {
  const key = `mesh-status/${encodeURIComponent(o.id)}`;
  const headers: Record<string, string> = o.token === undefined ? {} : { "X-Consul-Token": o.token };
  const publish = (): void => {
    const s = o.live.status();
    const body = JSON.stringify({ config: s.version, source: s.source, appliedAt: s.appliedAt, rejected: s.rejected.length + s.rejectedDocuments.length });
    fetch(`${o.consul}/v1/kv/${key}`, { method: "PUT", headers, body, signal: AbortSignal.timeout(3000) })
      .then((r) => r.body?.cancel())
      .catch((err: unknown) => o.log.warn({ err: String(err) }, "could not publish config status to consul"));
  };
  publish();
  o.live.onApply(publish);
  return {
    async remove() {
      await fetch(`${o.consul}/v1/kv/${key}`, { method: "DELETE", headers, signal: AbortSignal.timeout(3000) }).catch(() => undefined);
    },
  };
}
