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

/** `source` as a child script in a temp dir of its own, handed to `run`; the dir goes afterwards, also on failure. */
async function withChild(source: string, run: (script: string, dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "log-sink-"));
  try {
    const script = join(dir, "child.ts");
    await Bun.write(script, source);
    await run(script, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("2,000 lines over 2,000 event-loop turns go out in a few writes, all of them, in order", async () => {
  await withChild(CHILD, async (script, dir) => {
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
  });
}, 20_000);

const ENCODED_CHILD = `
import { createStdoutSink } from ${JSON.stringify(join(import.meta.dir, "log-sink.ts"))};
import { encodeAccessLine } from ${JSON.stringify(join(import.meta.dir, "../../shared/telemetry/access-line-bytes.ts"))};
const sink = createStdoutSink();
const event = (n) => ({ listener: "outbound", method: "GET", path: "/p/" + n + "/" + "x".repeat(n % 300), status: 200, cause: undefined,
  requestId: "r" + n, startedAt: 0, durationMs: 1.25, route: "r", cluster: "c", endpoint: undefined, attempts: 1, peer: undefined,
  authz: undefined, bytesIn: undefined, bytesOut: undefined });
let n = 0;
function burst() {
  // Several lines per turn, bytes and strings mixed, so the buffer fills and flushes while the pipe is full.
  for (let k = 0; k < 50 && n < 20000; k++, n++) {
    if (n % 3 === 0) sink.write(JSON.stringify({ msg: "pino", n, s: "é".repeat(n % 50) }) + "\\n");
    else if (!sink.writeEncoded(encodeAccessLine, "child", event(n), 1764316800000 + n)) throw new Error("did not fit");
  }
  if (n < 20000) setImmediate(burst);
  else sink.flush();
}
burst();
`;

test("encoded access lines and string lines through a slow pipe: every byte, in order (the buffer is reused only once FileSink has copied it)", async () => {
  await withChild(ENCODED_CHILD, async (script) => {
    const p = Bun.spawn([process.execPath, script], { stdout: "pipe", stderr: "pipe" });
    const chunks: Uint8Array[] = [];
    const reader = p.stdout.getReader();
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      chunks.push(r.value);
      await Bun.sleep(1); // a slow reader: the pipe fills, the child's writes wait in FileSink
    }
    expect(await p.exited).toBe(0);
    const lines = Buffer.concat(chunks).toString("utf8").trim().split("\n");
    expect(lines.length).toBe(20000);
    for (let n = 0; n < 20000; n++) {
      const j = JSON.parse(lines[n]!);
      if (n % 3 === 0) expect(j).toEqual({ msg: "pino", n, s: "é".repeat(n % 50) });
      else expect([j.msg, j.requestId, j.path, j.time]).toEqual(["access", `r${n}`, `/p/${n}/${"x".repeat(n % 300)}`, 1764316800000 + n]);
    }
  });
}, 30_000);
