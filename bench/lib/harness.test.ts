// Tests the harness's pure noise estimate and the pre-load probe against real local servers.
// The probe must refuse a scenario that answers with an error, so a fast 502 is never benchmarked.
import { afterAll, describe, expect, test } from "bun:test";
import { foreignCpuPct, probe } from "./harness.ts";
import type { Target } from "./scenarios.ts";

describe("foreignCpuPct", () => {
  test("subtracts our own CPU from the machine's busy time", () => {
    // 2 CPUs for 1 s at 100 ticks/s = 200 ticks total; 120 busy ticks = 1200 ms; we used 1000 ms -> 200 ms foreign = 10%.
    expect(foreignCpuPct({ busy: 0, total: 0 }, { busy: 120, total: 200 }, 1000, 100)).toBeCloseTo(10);
  });

  test("never goes negative and tolerates no elapsed time", () => {
    expect(foreignCpuPct({ busy: 0, total: 0 }, { busy: 10, total: 200 }, 500, 100)).toBe(0);
    expect(foreignCpuPct({ busy: 5, total: 100 }, { busy: 5, total: 100 }, 0, 100)).toBe(0);
  });
});

describe("probe", () => {
  let status = 200;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) => new Response(req.headers.get("host") === "upstream" ? '{"ok":true}' : "wrong host", { status }),
  });
  afterAll(() => server.stop(true));
  const target: Target = { url: `http://127.0.0.1:${server.port}/`, host: "upstream", proxies: new Map() };

  test("accepts a 200 with the upstream's body, sending the Host header", async () => {
    await probe("t", target);
  });

  test("rejects an error status with the status and body in the message", async () => {
    status = 502;
    await expect(probe("t", target)).rejects.toThrow(/t: probe answered 502/);
  });
});
