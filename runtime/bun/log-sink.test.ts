// The stdout sink batches for real: a child process logs 2,000 lines, one per event-loop turn (as a server logs one
// access line per request), into a file; its own write syscalls (/proc/self/io syscw) must be a handful, not 2,000.
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, openSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const CHILD = `
import { createStdoutSink } from ${JSON.stringify(join(import.meta.dir, "log-sink.ts"))};
import { readFileSync } from "node:fs";
const syscw = () => Number(/syscw:\\s+(\\d+)/.exec(readFileSync("/proc/self/io", "utf8"))[1]);
const sink = createStdoutSink();
const before = syscw();
let i = 0;
function tick() {
  sink.write('{"msg":"access","n":' + i + '}\\n');
  if (++i < 2000) setImmediate(tick);
  else setTimeout(() => { sink.flush(); console.error("writes " + (syscw() - before)); }, 120);
}
tick();
`;

test("2,000 lines over 2,000 event-loop turns go out in a few writes, all of them, in order", async () => {
  const dir = mkdtempSync(join(tmpdir(), "log-sink-"));
  try {
    const script = join(dir, "child.ts");
    await Bun.write(script, CHILD);
    const out = join(dir, "out.log");
    const fd = openSync(out, "w");
    const p = Bun.spawn([process.execPath, script], { stdout: fd, stderr: "pipe" });
    const err = await new Response(p.stderr).text();
    expect(await p.exited).toBe(0);
    closeSync(fd);
    const lines = readFileSync(out, "utf8").trim().split("\n");
    expect(lines.length).toBe(2000);
    expect(lines[1999]).toBe('{"msg":"access","n":1999}');
    const writes = Number(/writes (\d+)/.exec(err)?.[1]);
    // One per 50 ms window (the child runs for well under a second) plus the final flush and stderr's own line.
    expect(writes).toBeLessThan(40);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 20_000);
