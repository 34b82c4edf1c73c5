// The bench's floor pairs (bench/floor/, L7 and L4) over real sockets and mTLS with our CA's SVIDs: they must relay
// what wrk sends (the L7 pair also tells the app its caller's SPIFFE id) and refuse an inbound that isn't the expected identity.
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
let l4Port = 0;
let l4WrongPort = 0;
let served = 0;

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
      served++;
      const body = await req.text();
      if (new URL(req.url).pathname === "/slow") await Bun.sleep(300);
      return Response.json({ caller: req.headers.get("x-client-id"), id: req.headers.get("x-request-id"), path: new URL(req.url).pathname, body });
    },
  });
  const [inbound, outbound, wrong, l4In, l4Out, l4Wrong] = (await freePorts(6)) as [number, number, number, number, number, number];
  const tls = (who: "outbound" | "inbound") => ["--cert", files[who].cert, "--key", files[who].key, "--ca", files.ca];
  await start("inbound.ts", ["--port", String(inbound), "--app", `127.0.0.1:${app.port}`, ...tls("inbound")]);
  outboundPort = await start("outbound.ts", ["--port", String(outbound), "--upstream", `127.0.0.1:${inbound}`, "--expect", files.inbound.id, ...tls("outbound")]);
  // The same inbound, expected to be someone else: the outbound must send nothing to it.
  wrongPort = await start("outbound.ts", ["--port", String(wrong), "--upstream", `127.0.0.1:${inbound}`, "--expect", "spiffe://mesh.local/ns/default/svc/other", ...tls("outbound")]);
  await start("l4-inbound.ts", ["--port", String(l4In), "--app", `127.0.0.1:${app.port}`, ...tls("inbound")]);
  l4Port = await start("l4-outbound.ts", ["--port", String(l4Out), "--upstream", `127.0.0.1:${l4In}`, "--expect", files.inbound.id, ...tls("outbound")]);
  l4WrongPort = await start("l4-outbound.ts", ["--port", String(l4Wrong), "--upstream", `127.0.0.1:${l4In}`, "--expect", "spiffe://mesh.local/ns/default/svc/other", ...tls("outbound")]);
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
  const before = served;
  const err = await fetch(`http://127.0.0.1:${wrongPort}/`, { signal: AbortSignal.timeout(3000) }).then(
    (r) => `status ${r.status}`,
    (e: unknown) => String(e),
  );
  expect(err).not.toContain("status 200");
  expect(served).toBe(before);
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

test("L4: requests and bodies cross the pair untouched, a 2 MB body both ways included", async () => {
  for (let i = 0; i < 20; i++) {
    const res = await fetch(`http://127.0.0.1:${l4Port}/l4/${i}`, { method: "POST", body: `b${i}` });
    // Nothing is inserted at L4: the app sees no caller header and no request id.
    expect(await res.json()).toEqual({ caller: null, id: null, path: `/l4/${i}`, body: `b${i}` });
  }
  const big = "x".repeat(2 * 1024 * 1024);
  const res = await fetch(`http://127.0.0.1:${l4Port}/big`, { method: "POST", body: big });
  expect(((await res.json()) as { body: string }).body.length).toBe(big.length);
});

test("L4: an upstream that is not the expected identity gets no byte", async () => {
  const before = served;
  const err = await fetch(`http://127.0.0.1:${l4WrongPort}/`, { signal: AbortSignal.timeout(3000) }).then(
    (r) => `status ${r.status}`,
    (e: unknown) => String(e),
  );
  expect(err).not.toContain("status 200");
  expect(served).toBe(before);
});
