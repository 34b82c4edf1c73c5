// Test harness: a real mesh from real processes — the CA service, sidecars and a gateway — around test apps
// that run in the test process and count what reaches them. Everything on 127.0.0.1 and free ports.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse, stringify } from "yaml";
import { ProcessGroup, BUN, type Started } from "../../deploy/lib/process-group.ts";
import { freePort } from "../../deploy/lib/ports.ts";
import { caServeCommand, devCa, initCa, type DevCa } from "../../deploy/lib/dev-ca.ts";

export const ROOT = resolve(import.meta.dir, "../..");

export type SeenRequest = { method: string; path: string; headers: Record<string, string>; body: string };

/** An app that records every request it receives and answers with JSON naming itself. */
export function startTestApp(name: string, handler?: (req: Request, seen: SeenRequest) => Response | Promise<Response>) {
  const seen: SeenRequest[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const entry: SeenRequest = { method: req.method, path: url.pathname + url.search, headers: Object.fromEntries(req.headers), body: await req.text() };
      seen.push(entry);
      if (handler !== undefined) return handler(req, entry);
      return Response.json({ app: name, caller: req.headers.get("x-mesh-client-id"), path: entry.path, bodyLength: entry.body.length });
    },
  });
  return { name, port: server.port!, seen, stop: () => server.stop(true) };
}

export class TestMesh {
  readonly group = new ProcessGroup();
  readonly dir = mkdtempSync(join(tmpdir(), "mesh-test-"));
  caUrl = "";
  ca: DevCa | undefined;
  private members = 0;

  /** `ca init` in this mesh's temp dir, then `ca serve` on free loopback ports (a real HTTPS CA with join tokens). */
  async startCa(opts: { port?: number } = {}): Promise<Started> {
    const stateDir = join(this.dir, "ca");
    const fingerprint = this.ca?.fingerprint ?? initCa(BUN, stateDir, "mesh.local");
    const started = await this.group.spawn("ca", caServeCommand(BUN, stateDir, { port: opts.port ?? 0 }));
    this.ca = devCa(stateDir, fingerprint, started.ready);
    this.caUrl = this.ca.url;
    return started;
  }

  /** --ca, --ca-fingerprint, a fresh single-use --join-token for `service`, and a state dir of its own. */
  async memberArgs(service: string, stateName = `${service}-${++this.members}`): Promise<string[]> {
    if (this.ca === undefined) throw new Error("startCa() first");
    return this.ca.memberArgs(service, join(this.dir, "state", stateName));
  }

  writeConfig(config: unknown, name = "mesh.yaml"): string {
    const path = join(this.dir, name);
    writeFileSync(path, stringify(config));
    return path;
  }

  /** `join` replaces the default join flags (memberArgs); `extra` is appended (e.g. --cert-ttl). */
  async startSidecar(opts: { config: string; service: string; appPort: number; inboundPort?: number; outboundPort?: number; drain?: string; join?: string[]; extra?: string[] }): Promise<Started & { inboundPort: number; outboundPort: number; adminPort: number }> {
    const inboundPort = opts.inboundPort ?? (await freePort());
    const outboundPort = opts.outboundPort ?? (await freePort());
    const adminPort = await freePort();
    const s = await this.group.spawn(`sidecar-${opts.service}-${inboundPort}`, [
      BUN, join(ROOT, "sidecar/main.ts"), "--config", opts.config, "--service", opts.service, "--app-port", String(opts.appPort),
      "--inbound-port", String(inboundPort), "--outbound-port", String(outboundPort), "--admin-port", String(adminPort),
      ...(opts.join ?? (await this.memberArgs(opts.service))), "--access-log", "off", ...(opts.extra ?? []),
    ]);
    return { ...s, inboundPort, outboundPort, adminPort };
  }

  async startGateway(config: string): Promise<Started & { adminPort: number }> {
    const adminPort = await freePort();
    const g = await this.group.spawn("gateway", [BUN, join(ROOT, "gateway/main.ts"), "--config", config, ...(await this.gatewayArgs(config)), "--admin-port", String(adminPort), "--access-log", "off"]);
    return { ...g, adminPort };
  }

  /** memberArgs for the gateway named in `config` (gateway.name, default "gateway"). */
  async gatewayArgs(config: string): Promise<string[]> {
    const doc = parse(readFileSync(config, "utf8")) as { gateway?: { name?: string } } | null;
    return this.memberArgs(doc?.gateway?.name ?? "gateway");
  }

  async stop(): Promise<void> {
    await this.group.stopAll(10_000);
  }
}

/** Sends raw bytes on a fresh TCP connection and returns what came back (for malformed-request tests). */
export async function rawRequest(port: number, data: string | Uint8Array, timeoutMs = 3000): Promise<string> {
  const chunks: Uint8Array[] = [];
  let done: () => void = () => {};
  const closed = new Promise<void>((r) => (done = r));
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_s, d) {
        chunks.push(new Uint8Array(d));
        const text = Buffer.concat(chunks).toString("latin1");
        // One response is enough: stop once the head and a declared body are in.
        const m = /\r\n\r\n/.exec(text);
        if (m !== null) {
          const cl = /content-length:\s*(\d+)/i.exec(text.slice(0, m.index));
          if (cl !== null && text.length - m.index - 4 >= Number(cl[1])) done();
          if (cl === null && /^HTTP\/1\.1 \d+/.test(text) && /connection: close/i.test(text)) done();
        }
      },
      close() {
        done();
      },
      error() {
        done();
      },
    },
  });
  socket.write(data);
  await Promise.race([closed, Bun.sleep(timeoutMs)]);
  socket.end();
  return Buffer.concat(chunks).toString("latin1");
}

export function statusOf(raw: string): number {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
  return m === null ? 0 : Number(m[1]);
}
