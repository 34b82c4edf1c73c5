// Step: a member that did not exist before the CA restart (and the rotation) joins: a second echo v1 on host2 with a
// fresh token, pinning the root `ca fingerprint` prints now; the gateway and both web sidecars then send it traffic.
import type { Step } from "../step.ts";
import { counts, seconds, underLoad } from "../step.ts";
import { NEW_MEMBER, startMember } from "../members.ts";
import { waitForPassing } from "../consul-hosts.ts";
import { routedEndpoints } from "../member-admin.ts";
import { waitFor } from "../wait.ts";

export const newMember: Step = {
  name: "new-member",
  title: "a new sidecar joins (echo-v1b on host2, new token)",
  run: async (c, o) => {
    const id = NEW_MEMBER.instance;
    const r = await underLoad(c, o, "new-member", ["/echo", "/web"], async ({ mark }) => {
      const started = performance.now();
      const fingerprint = await c.ca.currentFingerprint();
      const m = await startMember(c, NEW_MEMBER, fingerprint);
      c.sidecars.set(id, m);
      const joinedMs = performance.now() - started;
      mark(`${id} joined (token minted, pinned ${fingerprint.slice(0, 15)}…)`);
      const passingMs = await waitForPassing(c.net, "echo", (ids) => ids.includes(id));
      // The old members that call echo: the gateway, and web's sidecars on host2 and host3.
      const callers = c.admins().filter((a) => a.name === "gateway" || a.name.startsWith("web-"));
      const routedMs = await waitFor(`${callers.map((a) => a.name).join(", ")} route to ${id}`, async () =>
        (await Promise.all(callers.map((a) => routedEndpoints(c.net, a, "echo")))).every((ids) => ids.includes(id)));
      mark(`${id} passing in consul and routed to by ${callers.length} old members`);
      await Bun.sleep(3000); // traffic to it
      return { data: { joinedMs, passingMs, routedMs, fingerprint } };
    });
    const l = r.load!;
    const viaGateway = l.echoInstances[id] ?? 0;
    const viaWeb = l.echoViaWeb[id] ?? 0;
    r.data = { ...r.data, viaGateway, viaWeb };
    r.notes.push(`${id} answered ${viaGateway} gateway calls and ${viaWeb} web calls (gateway->echo ${counts(l.echoInstances)}); joined in ${seconds(r.data.joinedMs as number)}`);
    return r;
  },
};
