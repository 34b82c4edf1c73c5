// Unit test of the live snapshot holder's cluster registry: successive applied configs share cluster objects,
// so discovered endpoints and balancer state survive a reload that leaves a cluster's definition alone.
import { describe, expect, test } from "bun:test";
import { startLiveSnapshot } from "./live.ts";
import { endpoint } from "../../test/support/endpoints.ts";

/** A provider the test feeds by hand. */
function updates() {
  const queue: Array<{ text: string; source: string }> = [];
  let wake: (() => void) | undefined;
  const iterable: AsyncIterable<{ text: string; source: string }> = {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        while (queue.length > 0) yield queue.shift()!;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
  return { iterable, push: (text: string) => (queue.push({ text, source: "test" }), wake?.()) };
}

const CONFIG = `
services:
  echo: { mtls: disable, instances: [{ id: e1, address: 127.0.0.1, port: 1 }] }
  other: { mtls: disable }
`;

describe("startLiveSnapshot: clusters", () => {
  test("two successive configs share cluster objects; a removed service's cluster is dropped", async () => {
    const feed = updates();
    const log = { info() {}, error() {} };
    feed.push(CONFIG);
    const live = await startLiveSnapshot({ updates: feed.iterable, forwarder: () => async () => new Response("ok"), log });
    const echo = live.clusters.get("echo#round_robin")!;
    expect(live.current().clusters.get("echo#round_robin")).toBe(echo);
    echo.setServiceEndpoints([endpoint("consul-1"), endpoint("consul-2")]); // as the Consul feed does
    expect(echo.balancer.pick()?.id).toBe("consul-1");

    feed.push(`${CONFIG.replace("  other: { mtls: disable }\n", "")}routes:\n  - { name: r, match: { host: [x] }, action: { destinations: [{ service: echo }] } }\n`);
    for (let i = 0; i < 100 && live.status().version < 2; i++) await new Promise((r) => setTimeout(r, 1));
    expect(live.status().version).toBe(2);
    expect(live.current().clusters.get("echo#round_robin")).toBe(echo);
    expect(echo.endpoints().map((e) => e.id)).toEqual(["consul-1", "consul-2"]);
    expect(echo.balancer.pick()?.id).toBe("consul-2");
    expect(live.current().clusters.has("other#round_robin")).toBe(false);
    expect(live.clusters.size).toBe(1);
    expect(live.clusters.get("echo#round_robin")).toBe(echo);
    live.stop();
  });
});
