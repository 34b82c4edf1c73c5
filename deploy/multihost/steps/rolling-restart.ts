// Step: every sidecar restarted in turn under load: SIGTERM (it leaves rotation and drains), wait until it is gone,
// start it again from its state directory without a token, wait until Consul passes it again, then the next one.
import type { Step } from "../step.ts";
import { seconds, underLoad } from "../step.ts";
import { restartSidecar } from "../members.ts";
import { waitForPassing } from "../consul-hosts.ts";
import { routedEndpoints } from "../member-admin.ts";
import { waitFor } from "../wait.ts";

export const rollingRestart: Step = {
  name: "rolling-restart",
  title: "rolling restart of every sidecar (same state dir, no token)",
  run: (c, o) =>
    underLoad(c, o, "rolling-restart", ["/echo", "/web"], async ({ mark }) => {
      const notes: string[] = [];
      const restarts: Array<{ instance: string; stopMs: number; startMs: number; passingMs: number; tokenless: boolean }> = [];
      const gateway = c.admins()[0]!;
      // Members that joined before a root rotation still pin the first root: their restarts must not need a new pin.
      const oldPins = [...c.sidecars.values()].filter((m) => m.fingerprint === c.ca.fingerprint).length;
      for (const m of c.sidecars.values()) {
        const id = m.spec.instance;
        const { stopMs, startMs, tokenless } = await restartSidecar(c, m);
        const passingMs = await waitForPassing(c.net, m.spec.service, (ids) => ids.includes(id));
        await waitFor(`the gateway routes to ${id} again`, async () => (await routedEndpoints(c.net, gateway, m.spec.service)).includes(id));
        restarts.push({ instance: id, stopMs, startMs, passingMs, tokenless });
        mark(`${id}: gone after ${seconds(stopMs)}, ready ${seconds(startMs)} later${tokenless ? " (no token)" : ""}, passing +${seconds(passingMs)}`);
      }
      notes.push(`each down-and-back: ${restarts.map((r) => `${r.instance} ${seconds(r.stopMs + r.startMs + r.passingMs)}`).join(", ")}`);
      notes.push(`all from the state directory without a token; ${oldPins} of ${restarts.length} with --ca-fingerprint still the first root`);
      const withToken = restarts.filter((r) => !r.tokenless).map((r) => r.instance);
      if (withToken.length > 0) notes.push(`NOT restarted from the state directory: ${withToken.join(", ")}`);
      return { notes, data: { restarts, oldPins } };
    }),
};
