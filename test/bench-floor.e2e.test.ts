// The bench's L7 floor pair (bench/floor/) over real sockets and mTLS with our CA's SVIDs: it must relay what wrk
// sends, tell the app its caller's SPIFFE id, and refuse an inbound that isn't the expected identity.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { writeFloorCertificates, type FloorFiles } from "../bench/floor/certs.ts";
import { freePorts } from "../bench/lib/ports.ts";

const ROOT = join(import.meta.dir, "..");
const dir = mkdtempSync(join(tmpdir(), "floor-test-"));
const procs: Subprocess[] = [];
let files: FloorFiles;
let app: ReturnType<typeof Bun.serve>;
let outboundPort = 0;
let wrongPort = 0;

async function start(script: string, args: string[]): Promise<number> {
  const p = Bun.spawn([process.execPath, join(ROOT, "bench/floor", script), ...args], { stdout: "pipe", stderr: "inherit" });
  procs.push(p);
  const reader = p.stdout.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  return (JSON.parse(new TextDecoder().decode(value).split("\n")[0]!) as { port: number }).port;
}

beforeAll(async () => {
  files = await writeFloorCertificates(dir, "mesh.local");
  app = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const body = await req.text();
      if (new URL(req.url).pathname === "/slow") await Bun.sleep(300);
      return Response.json({ caller: req.headers.get("x-client-id"), id: req.headers.get("x-request-id"), path: new URL(req.url).pathname, body });
    },
  });
  const [inbound, outbound, wrong] = (await freePorts(3)) as [number, number, number];
  const tls = (who: "outbound" | "inbound") => ["--cert", files[who].cert, "--key", files[who].key, "--ca", files.ca];
  await start("inbound.ts", ["--port", String(inbound), "--app", `127.0.0.1:${app.port}`, ...tls("inbound")]);
  outboundPort = await start("outbound.ts", ["--port", String(outbound), "--upstream", `127.0.0.1:${inbound}`, "--expect", files.inbound.id, ...tls("outbound")]);
  // The same inbound, expected to be someone else: the outbound must send nothing to it.
  wrongPort = await start("outbound.ts", ["--port", String(wrong), "--upstream", `127.0.0.1:${inbound}`, "--expect", "spiffe://mesh.local/ns/default/svc/other", ...tls("outbound")]);
});

afterAll(() => {
  for (const p of procs) p.kill("SIGKILL");
  app?.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

test("requests and bodies cross the pair; the app learns the caller's SPIFFE id from its certificate", async () => {
  for (let i = 0; i < 20; i++) {
    const res = await fetch(`http://127.0.0.1:${outboundPort}/p/${i}`, { method: "POST", body: `b${i}` });
    expect(res.status).toBe(200);
    const got = (await res.json()) as { caller: string; id: string; path: string; body: string };
    expect(got).toMatchObject({ caller: files.outbound.id, path: `/p/${i}`, body: `b${i}` });
    expect(Number(got.id)).toBeGreaterThan(0);
  }
});

test("the private keys are written for the owner only", () => {
  expect(statSync(files.inbound.key).mode & 0o077).toBe(0);
  expect(readFileSync(files.outbound.key, "utf8")).toContain("PRIVATE KEY");
});

test("an upstream that is not the expected identity gets no request", async () => {
  const err = await fetch(`http://127.0.0.1:${wrongPort}/`, { signal: AbortSignal.timeout(3000) }).then(
    (r) => `status ${r.status}`,
    (e: unknown) => String(e),
  );
  expect(err).not.toContain("status 200");
});

test("a caller that leaves mid-request takes its upstream connection with it; later requests are served", async () => {
  const gone = await fetch(`http://127.0.0.1:${outboundPort}/slow`, { signal: AbortSignal.timeout(50) }).then(() => "answered", (e: unknown) => String(e));
  expect(gone).toContain("TimeoutError");
  await Bun.sleep(400); // the slow answer arrives for nobody
  for (let i = 0; i < 5; i++) {
    const res = await fetch(`http://127.0.0.1:${outboundPort}/after/${i}`);
    expect(((await res.json()) as { path: string }).path).toBe(`/after/${i}`);
  }
});
