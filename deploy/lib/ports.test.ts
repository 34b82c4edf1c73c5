// freePort hands out ports outside the kernel's ephemeral range and never the same one twice in a process: a port
// from the ephemeral range can be taken as the source port of any outgoing connection before the server binds it.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { freeBlock, freePort } from "./ports.ts";

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

test("a block (the demo's layout of fixed offsets) lies wholly below the ephemeral range, and is free", async () => {
  // The demo's offsets: its highest is 1300 above the base.
  const offsets = [0, 1, 2, 11, 101, 102, 111, 201, 202, 211, 301, 302, 311, 1300];
  for (let i = 0; i < 30; i++) {
    const base = await freeBlock(offsets);
    for (const o of offsets) expect(base + o < low || base + o > high).toBe(true);
  }
  const base = await freeBlock(offsets);
  const server = Bun.listen({ hostname: "127.0.0.1", port: base + 1300, socket: { data() {} } });
  expect(server.port).toBe(base + 1300);
  server.stop(true);
});

test("under bun test --parallel, each worker's ports (and blocks) come from its own part of the range", async () => {
  const saved = process.env.BUN_TEST_WORKER_ID;
  const seen = new Map<string, number[]>();
  try {
    for (const id of ["1", "2", "3", "4", "5"]) {
      process.env.BUN_TEST_WORKER_ID = id;
      const ports: number[] = [];
      for (let i = 0; i < 40; i++) ports.push(await freePort());
      const base = await freeBlock([0, 1300]);
      ports.push(base, base + 1300);
      seen.set(id, ports);
    }
  } finally {
    if (saved === undefined) delete process.env.BUN_TEST_WORKER_ID;
    else process.env.BUN_TEST_WORKER_ID = saved;
  }
  const span = (id: string) => [Math.min(...seen.get(id)!), Math.max(...seen.get(id)!)] as const;
  // Workers 1–4 take four disjoint parts in order; a fifth shares the first's part (one in four).
  for (const [a, b] of [["1", "2"], ["2", "3"], ["3", "4"]] as const) expect(span(a)[1]).toBeLessThan(span(b)[0]);
  expect(span("5")[1]).toBeLessThan(span("2")[0]);
  for (const ports of seen.values()) for (const p of ports) expect(p < low || p > high).toBe(true);
});
