// Tests that free-port picking returns distinct ports that can actually be bound on 127.0.0.1.
// Binding them proves the ports were really free when picked, not just numbers.
import { expect, test } from "bun:test";
import { freePort, freePorts } from "./ports.ts";

test("freePorts returns distinct bindable ports", async () => {
  const ports = await freePorts(4);
  expect(new Set(ports).size).toBe(4);
  for (const port of [...ports, await freePort()]) {
    const s = Bun.serve({ hostname: "127.0.0.1", port, fetch: () => new Response("") });
    expect(s.port).toBe(port);
    s.stop(true);
  }
});
