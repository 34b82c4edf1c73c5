// Publishes which config this member has applied to Consul KV (mesh-status/<id>), so `meshctl status` can show
// it for every VM. Written on each apply (rare), never on the request path; failures are only logged.
import type { LiveSnapshot } from "../shared/build/live.ts";
import { consulClient } from "./consul/client.ts";

type Log = { warn(o: object, msg: string): void };

export function startStatusReport(o: { consul: string; token: string | undefined; id: string; live: LiveSnapshot; log: Log }): { remove(): Promise<void> } {
  const consul = consulClient(o.consul, o.token);
  // The raw id: the client escapes the key in the URL and Consul stores it unescaped, as before.
  const key = `mesh-status/${o.id}`;
  const timeout = 3000;
  const publish = (): void => {
    const s = o.live.status();
    const value = JSON.stringify({ config: s.version, source: s.source, appliedAt: s.appliedAt, rejected: s.rejected.length + s.rejectedDocuments.length });
    consul.kv.set({ key, value, timeout }).catch((err: unknown) => o.log.warn({ err: String(err) }, "could not publish config status to consul"));
  };
  publish();
  o.live.onApply(publish);
  return {
    async remove() {
      await consul.kv.del({ key, timeout }).catch(() => undefined);
    },
  };
}
