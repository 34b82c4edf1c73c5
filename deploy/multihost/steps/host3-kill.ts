// Step: host3 dies without warning (SIGKILL to its Consul agent, echo v2 and web with their sidecars; optionally its
// link cut too) under load; counts the requests that failed while Consul noticed, with retries on.
import type { Step } from "../step.ts";
import { seconds, underLoad } from "../step.ts";
import { passingInstances } from "../consul-hosts.ts";
import { routedEndpoints } from "../member-admin.ts";
import { unplugHost } from "../netns.ts";
import { waitFor } from "../wait.ts";

export const host3Kill: Step = {
  name: "host3-kill",
  title: "host3 dies: SIGKILL every process on it",
  run: async (c, o) => {
    const r = await underLoad(c, o, "host3-kill", ["/echo", "/web"], async ({ mark, load }) => {
      const dying = [...c.sidecars.values()].filter((m) => m.spec.host === "host3");
      const ids = dying.map((m) => m.spec.instance);
      const processes = [c.consul.agents.host3, ...dying.flatMap((m) => [m.sidecar, m.app])];
      const before = load.snapshot();
      const t0 = performance.now();
      for (const p of processes) p.proc.kill("SIGKILL"); // all at once, as a power cut would
      if (o.host3Death === "unplug") unplugHost(c.net, "host3");
      await Promise.all(processes.map((p) => c.procs.kill(p)));
      for (const id of ids) c.sidecars.delete(id);
      mark(`host3: ${processes.length} processes SIGKILLed${o.host3Death === "unplug" ? ", link cut" : ""} (${ids.join(", ")})`);
      const consulMs = await waitFor("consul no longer passes host3's instances", async () => {
        const passing = [...(await passingInstances(c.net, "echo")), ...(await passingInstances(c.net, "web"))];
        return !ids.some((id) => passing.includes(id));
      }, 60_000, 100);
      const atConsul = load.snapshot();
      mark(`consul noticed after ${seconds(consulMs)}`);
      const callers = c.admins().filter((a) => a.name === "gateway" || a.name.startsWith("web-"));
      const routesMs = await waitFor("the gateway and web-2 route around host3", async () =>
        (await Promise.all(callers.flatMap((a) => [routedEndpoints(c.net, a, "echo"), routedEndpoints(c.net, a, "web")]))).every((eps) => !ids.some((id) => eps.includes(id))));
      const noticed = load.snapshot();
      await Bun.sleep(1000);
      const failedWhileNoticing = noticed.failed - before.failed;
      return {
        notes: [
          `consul stopped passing host3's instances ${seconds(consulMs)} after the kill, every caller routed around it ${seconds(routesMs + consulMs)} after; ${noticed.sent - before.sent} requests in that window, ${failedWhileNoticing} failed`,
        ],
        data: { consulMs, routesMs: consulMs + routesMs, failedWhileNoticing, sentWhileNoticing: noticed.sent - before.sent, failedUntilConsul: atConsul.failed - before.failed },
      };
    });
    // Without outlier detection (not implemented yet) every caller keeps trying host3 first now and then until
    // Consul says it is gone: each such try costs a refused connection (kill) or a timeout (unplug), then a retry.
    r.notes.push(`latency over the step: p99 ${r.load!.p99Ms.toFixed(0)} ms, max ${r.load!.maxMs.toFixed(0)} ms`);
    return r;
  },
};
