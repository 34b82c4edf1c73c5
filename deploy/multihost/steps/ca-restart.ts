// Step: the CA restarts (SIGTERM, then `ca serve` again from the same state directory and ports) under load; members
// keep serving on their leaves while it is down, then every one of them renews against the restarted CA.
import type { Step } from "../step.ts";
import { seconds, underLoad } from "../step.ts";
import { memberInfo } from "../member-admin.ts";
import { waitFor } from "../wait.ts";
import { parseLifetime } from "../../../member/flags.ts";

export const caRestart: Step = {
  name: "ca-restart",
  title: "restart the CA (SIGTERM, same state dir and ports)",
  run: (c, o) =>
    underLoad(c, o, "ca-restart", ["/echo", "/web"], async ({ mark }) => {
      const ttlMs = parseLifetime("cert-ttl", c.certTtl);
      mark("SIGTERM to the CA");
      const { downMs } = await c.ca.restart();
      const backAt = Date.now();
      mark(`CA serving again (down ${downMs.toFixed(0)} ms)`);
      // A leaf issued after the restart ends at least ttl after it (1 s precision, some slack).
      const renewedMs = await waitFor("every member renewed its leaf against the restarted CA", async () => {
        const infos = await Promise.all(c.admins().map((m) => memberInfo(c.net, m)));
        return infos.every((i) => Date.parse(i.certNotAfter ?? "") >= backAt + ttlMs - 2000);
      }, ttlMs + 20_000, 500);
      mark(`all ${c.admins().length} members renewed`);
      return {
        notes: [`CA down ${downMs.toFixed(0)} ms; all ${c.admins().length} members renewed against it within ${seconds(renewedMs)}`],
        data: { downMs, renewedMs },
      };
    }),
};
