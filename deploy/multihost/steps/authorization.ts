// Step: a policy that denies web -> echo is written to Consul KV and later deleted, under load; probes through the
// gateway's /web (gateway -> web -> echo) measure how soon echo's sidecars on host2 and host3 refuse, then allow again.
import { stringify } from "yaml";
import type { Step } from "../step.ts";
import { underLoad } from "../step.ts";
import { CONSUL_HTTP } from "../consul-hosts.ts";
import { DENY_RULE, DENY_WEB_TO_ECHO, KV_PREFIX } from "../mesh-config.ts";
import { nsHttp } from "../ns-command.ts";

type Probe = { start: number; end: number; echoStatus: number; denyRule: boolean };

/** Two unpaced loops on /web, recording what echo answered web (web itself answers 200 with echo's status inside). */
function startProbes(baseUrl: string) {
  const seen: Probe[] = [];
  let stop = false;
  const loop = async () => {
    while (!stop) {
      const start = performance.now();
      let echoStatus = 0;
      let denyRule = false;
      try {
        const res = await fetch(`${baseUrl}/web`, { signal: AbortSignal.timeout(5000) });
        const body = (await res.json()) as { echoStatus?: number; echo?: { message?: string } };
        echoStatus = res.status === 200 ? body.echoStatus ?? 0 : -res.status;
        denyRule = typeof body.echo?.message === "string" && body.echo.message.includes(`"${DENY_RULE}"`);
      } catch {
        echoStatus = 0;
      }
      seen.push({ start, end: performance.now(), echoStatus, denyRule });
      await Bun.sleep(5);
    }
  };
  const loops = [loop(), loop()];
  return { seen, stop: async () => ((stop = true), await Promise.all(loops)) };
}

/**
 * After a change at t0 from `before` to `after`: when the last `before` answer started, and whether every probe started
 * later than `windowMs` got `after`. Only probes that also ended before `until` (the next change) count: one that
 * started just before it can reach echo after it (three hops under load) and rightly see the next policy.
 */
function window(seen: Probe[], t0: number, until: number, before: number, after: number, windowMs: number) {
  const since = seen.filter((p) => p.start >= t0 && p.end < until);
  const lastBefore = Math.max(0, ...since.filter((p) => p.echoStatus === before).map((p) => p.start - t0));
  const firstAfter = Math.min(...since.filter((p) => p.echoStatus === after).map((p) => p.end - t0));
  const late = since.filter((p) => p.start - t0 > windowMs);
  const wrongLate = late.filter((p) => p.echoStatus !== after).length;
  const other = since.filter((p) => p.echoStatus !== before && p.echoStatus !== after).length;
  return { lastBeforeMs: lastBefore, firstAfterMs: firstAfter, probesAfterWindow: late.length, wrongAfterWindow: wrongLate, other };
}

export const authorization: Step = {
  name: "authorization",
  title: "deny web -> echo in KV, then delete it (403 within 1 s)",
  run: (c, o) =>
    // Load on /echo only: gateway -> echo stays allowed throughout; /web is what the probes measure.
    underLoad(c, o, "authorization", ["/echo"], async ({ mark }) => {
      const ns = c.net.hosts.host1.ns;
      const key = `${CONSUL_HTTP}/v1/kv/${KV_PREFIX}authorization/echo`;
      const probes = startProbes(c.gatewayUrl);
      try {
        await Bun.sleep(1000);
        const allowedBefore = probes.seen.filter((p) => p.echoStatus === 200).length;
        const t0 = performance.now();
        const put = await nsHttp(ns, "PUT", key, stringify(DENY_WEB_TO_ECHO));
        if (put.status !== 200) throw new Error(`KV put of the policy: ${put.status} ${put.body}`);
        mark(`policy ${KV_PREFIX}authorization/echo written (deny web)`);
        await Bun.sleep(2500);
        const t1 = performance.now();
        const del = await nsHttp(ns, "DELETE", key);
        if (del.status !== 200) throw new Error(`KV delete of the policy: ${del.status} ${del.body}`);
        mark("policy deleted");
        await Bun.sleep(2500);
        await probes.stop();
        const deny = window(probes.seen, t0, t1, 200, 403, 1000);
        const allow = window(probes.seen, t1, Infinity, 403, 200, 1000);
        const denied = probes.seen.filter((p) => p.echoStatus === 403);
        const namedRule = denied.filter((p) => p.denyRule).length;
        return {
          notes: [
            `deny: last web->echo 200 started ${deny.lastBeforeMs.toFixed(0)} ms after the write, first 403 ${deny.firstAfterMs.toFixed(0)} ms; ${deny.probesAfterWindow} calls after 1 s, ${deny.wrongAfterWindow} not 403`,
            `allow again: last 403 started ${allow.lastBeforeMs.toFixed(0)} ms after the delete, first 200 ${allow.firstAfterMs.toFixed(0)} ms; ${allow.probesAfterWindow} calls after 1 s, ${allow.wrongAfterWindow} not 200`,
          ],
          data: { allowedBefore, deny, allow, denied: denied.length, namedRule },
        };
      } finally {
        await probes.stop();
      }
    }),
};
