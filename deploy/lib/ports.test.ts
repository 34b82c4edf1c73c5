// freePort hands out ports outside the kernel's ephemeral range and never the same one twice in a process: a port
// from the ephemeral range can be taken as the source port of any outgoing connection before the server binds it.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { freePort } from "./ports.ts";

const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number) as [number, number];

test("ports come from below the ephemeral range, are distinct, and can be bound", async () => {
  const ports: number[] = [];
  for (let i = 0; i < 200; i++) ports.push(await freePort());
  for (const p of ports) expect(p < low || p > high).toBe(true);
  expect(new Set(ports).size).toBe(ports.length);
  const server = Bun.listen({ hostname: "127.0.0.1", port: ports[0]!, socket: { data() {} } });
  expect(server.port).toBe(ports[0]!);
  server.stop(true);
});
