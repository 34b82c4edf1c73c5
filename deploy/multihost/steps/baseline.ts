// Step 0: steady load through the gateway with nothing happening, so every later step has a reference: requests go
// gateway (host1) -> echo on host2/host3, and gateway -> web -> echo, every hop mTLS across the bridge.
import type { Step } from "../step.ts";
import { counts, underLoad } from "../step.ts";

export const baseline: Step = {
  name: "baseline",
  title: "steady load, nothing happening",
  run: async (c, o) => {
    const r = await underLoad(c, o, "baseline", ["/echo", "/web"], async () => {
      await Bun.sleep(2000);
      return {};
    });
    const l = r.load!;
    r.notes.push(`gateway->echo ${counts(l.echoInstances)}; web->echo ${counts(l.echoViaWeb)}; p99 ${l.p99Ms.toFixed(0)} ms`);
    return r;
  },
};
