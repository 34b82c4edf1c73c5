// Tests /proc parsing and the live CPU/RSS readers against this test process and a child it starts.
// The child check matters: CPU must include forked children of a proxy.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { cpuMs, memoryKb, parseRssAnonKb, parseStat, parseVmHwmKb, parseVmRssKb, peakRssKb, processTree, RssSampler, rssKb } from "./procstat.ts";

describe("parsers", () => {
  test("parseStat survives a command name with spaces and parentheses", () => {
    const line = "4242 (bun (x) y) S 17 4242 4242 0 -1 4194304 100 0 0 0 250 40 7 3 20 0 8 0 12345 6486792 8328 18446744073709551615";
    expect(parseStat(line)).toEqual({ ppid: 17, utime: 250, stime: 40, cutime: 7, cstime: 3 });
  });

  test("parseVmRssKb reads VmRSS and returns 0 when it is absent (kernel threads, zombies)", () => {
    expect(parseVmRssKb("Name:\tbun\nVmHWM:\t  40000 kB\nVmRSS:\t   33312 kB\n")).toBe(33312);
    expect(parseVmRssKb("Name:\tkthreadd\n")).toBe(0);
  });

  test("parseVmHwmKb reads VmHWM (the peak), not VmRSS, and returns 0 when it is absent", () => {
    expect(parseVmHwmKb("Name:\tbun\nVmHWM:\t  40000 kB\nVmRSS:\t   33312 kB\n")).toBe(40000);
    expect(parseVmHwmKb("Name:\tkthreadd\n")).toBe(0);
  });

  test("parseRssAnonKb reads RssAnon, not RssFile, and returns 0 when it is absent", () => {
    expect(parseRssAnonKb("VmRSS:\t   33312 kB\nRssAnon:\t   12000 kB\nRssFile:\t   21312 kB\n")).toBe(12000);
    expect(parseRssAnonKb("Name:\tkthreadd\n")).toBe(0);
  });
});

describe("live /proc readers", () => {
  // Not compared with VmRSS: the kernel updates both lazily, and VmHWM was seen below VmRSS by 10 %.
  test("peakRssKb reads this process's peak (megabytes, not 0); a PID no process can have reads 0", () => {
    expect(peakRssKb(process.pid)).toBeGreaterThan(4096);
    expect(peakRssKb(2 ** 22 + 7)).toBe(0);
  });

  test("cpuMs grows while this process burns CPU", () => {
    const before = cpuMs(process.pid);
    // Burn 150 ms of CPU as the process itself counts it (wall time could be descheduled).
    const start = process.cpuUsage();
    let x = 0;
    while (process.cpuUsage(start).user < 150_000) for (let i = 0; i < 10_000; i++) x += Math.sqrt(x + 1);
    expect(x).toBeGreaterThan(0);
    expect(cpuMs(process.pid) - before).toBeGreaterThanOrEqual(100);
  });

  test("cpuMs keeps a child's CPU after the child exited and was reaped", async () => {
    const before = cpuMs(process.pid);
    const child = Bun.spawn([process.execPath, "-e", "const s = process.cpuUsage(); let x = 0; while (process.cpuUsage(s).user < 300_000) x++;"]);
    await child.exited;
    expect(cpuMs(process.pid) - before).toBeGreaterThanOrEqual(250);
  });

  test("processTree and rssKb include a child process", async () => {
    const child = Bun.spawn(["sleep", "5"]);
    try {
      expect(processTree(process.pid)).toContain(child.pid);
      expect(rssKb(process.pid)).toBeGreaterThan(rssKb(child.pid));
    } finally {
      child.kill("SIGKILL");
      await child.exited;
    }
  });

  test("memoryKb: the anonymous part is a part of RSS, and grows with a process's own heap", async () => {
    // A fresh child, not this process: a bun test worker runs many files, and its allocator may hand out pages an
    // earlier file freed and has not returned yet, so here 64 MB allocated grew anon by 32 MB only (seen in CI).
    const script = `import { memoryKb } from ${JSON.stringify(join(import.meta.dir, "procstat.ts"))};
      const before = memoryKb(process.pid);
      const held = Array.from({ length: 64 }, () => new Uint8Array(1 << 20).fill(7)); // 64 MB, touched
      console.log(JSON.stringify({ before, after: memoryKb(process.pid), held: held.length }));`;
    const child = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "inherit" });
    const out = await new Response(child.stdout).text();
    expect(await child.exited).toBe(0);
    const { before, after } = JSON.parse(out) as { before: { rss: number; anon: number }; after: { rss: number; anon: number } };
    expect(before.anon).toBeGreaterThan(0);
    expect(before.anon).toBeLessThan(before.rss);
    expect(after.anon - before.anon).toBeGreaterThan(48 * 1024);
    expect(after.anon).toBeLessThanOrEqual(after.rss);
  });

  test("RssSampler reports a peak in MB per name, RSS and its anonymous part", async () => {
    const s = new RssSampler(new Map([["me", process.pid]]), 20);
    s.start();
    await Bun.sleep(60);
    const peaks = s.stop();
    expect(peaks.rss.me).toBeGreaterThan(5);
    expect(peaks.rss.me).toBeLessThan(2000);
    expect(peaks.anon.me).toBeGreaterThan(0);
    expect(peaks.anon.me).toBeLessThanOrEqual(peaks.rss.me!);
  });
});
