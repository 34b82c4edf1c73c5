// bench/alloc.ts end to end on the floor pair: real processes with the probe preloaded, real sockets, a count per
// proxy. The counts themselves are the floor's business; what must hold is that each proxy gets a clean window.
import { expect, test } from "bun:test";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");

test("bench/alloc.ts prints objects per request for each proxy of the floor pair, from a window with no collection", async () => {
  const p = Bun.spawn([process.execPath, join(ROOT, "bench/alloc.ts"), "--scenario", "bun-l7-pair", "--requests", "80"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => p.kill("SIGKILL"), 90_000);
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  expect({ code, err: code === 0 ? "" : err }).toEqual({ code: 0, err: "" });
  expect(out).toContain("bun-l7-pair: 80 requests on 8 connections");
  for (const proxy of ["floor-outbound", "floor-inbound"]) {
    const m = new RegExp(`^${proxy}: ([0-9.]+) objects per request \\(string [0-9.]+`, "m").exec(out);
    expect(m, out).not.toBeNull();
    // Each request is at least its head as a string and the bytes it arrived in; nothing near a thousand objects.
    expect(Number(m![1])).toBeGreaterThan(1);
    expect(Number(m![1])).toBeLessThan(1000);
  }
}, 120_000);
