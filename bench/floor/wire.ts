// What both halves of the L7 floor pair share: a write queue that keeps what the kernel didn't take, and the
// smallest HTTP/1.1 framing an L7 hop must read (end of the head, Content-Length). Deliberately nothing more.
import type { Socket } from "bun";

const CRLF2 = Buffer.from("\r\n\r\n");
const CL = /\r\ncontent-length:[ \t]*(\d+)/i;

/** Writes that survive a partial write: the rest waits for drain, in order. */
export class Out {
  private queue: Buffer[] = [];
  constructor(private readonly sock: Socket<unknown>) {}
  write(b: Buffer): void {
    if (this.queue.length > 0) return void this.queue.push(Buffer.from(b));
    const n = this.sock.write(b);
    if (n < b.length) this.queue.push(Buffer.from(b.subarray(Math.max(n, 0))));
  }
  drain(): void {
    while (this.queue.length > 0) {
      const b = this.queue[0]!;
      const n = this.sock.write(b);
      if (n < b.length) {
        this.queue[0] = b.subarray(Math.max(n, 0));
        return;
      }
      this.queue.shift();
    }
  }
}

/** A link whose socket may not be written to yet: what comes first waits in `early`, in order. */
export type Link = { out: Out | undefined; early: Buffer[] };

/** The link's socket may be written to now: the bytes held so far go first. */
export function openLink(link: Link, s: Socket<unknown>): void {
  const out = (link.out = new Out(s));
  for (const b of link.early) out.write(b);
  link.early = [];
}

/**
 * The server's certificate after the handshake: its chain verified against our CA (only the host-name check may fail:
 * a SPIFFE leaf names no host) and its URI SAN the expected one. Nothing may be sent before this says yes.
 */
export function isExpectedPeer(s: Socket<unknown>, err: Error | null | undefined, expectedSan: string): boolean {
  const chainOk = err === null || err === undefined || (err as { code?: string }).code === "ERR_TLS_CERT_ALTNAME_INVALID";
  return chainOk && s.getPeerX509Certificate()?.subjectAltName === expectedSan;
}

/**
 * Bytes of one HTTP/1.1 message collected from reads: `take` returns the whole message once its head and its
 * Content-Length body are in (the copy-free case: it arrived in one read), else undefined.
 */
export class Framer {
  private buf: Buffer | undefined;
  /** Index past the message's head ("\r\n\r\n" included), once known. */
  headEnd = 0;
  take(chunk: Buffer): Buffer | undefined {
    const b = this.buf === undefined ? chunk : Buffer.concat([this.buf, chunk]);
    const end = b.indexOf(CRLF2);
    if (end < 0) return this.keep(b);
    const m = CL.exec(b.toString("latin1", 0, end));
    const total = end + 4 + (m === null ? 0 : Number(m[1]));
    if (b.length < total) return this.keep(b);
    // The floor serves one request per connection at a time (wrk doesn't pipeline): bytes past the message are a
    // protocol error here, not something to queue.
    if (b.length > total) throw new Error("bytes after the message");
    this.buf = undefined;
    this.headEnd = end + 4;
    return b;
  }
  private keep(b: Buffer): undefined {
    this.buf = Buffer.from(b); // the read buffer is reused after the callback
    return undefined;
  }
}

/** `msg` with `field` ("name: value\r\n") inserted after its start line: the one head edit each half makes. */
export function withField(msg: Buffer, field: Buffer): Buffer {
  const line = msg.indexOf(13) + 2;
  const out = Buffer.allocUnsafe(msg.length + field.length);
  msg.copy(out, 0, 0, line);
  field.copy(out, line);
  msg.copy(out, line + field.length, line);
  return out;
}

export function arg(name: string): string {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (v === undefined) {
    console.error(`missing ${name}`);
    process.exit(2);
  }
  return v;
}

export function hostPort(s: string): { hostname: string; port: number } {
  const i = s.lastIndexOf(":");
  return { hostname: s.slice(0, i), port: Number(s.slice(i + 1)) };
}

export function ready(service: string, port: number, stop: () => void): void {
  console.log(JSON.stringify({ msg: "ready", service, port }));
  const quit = (): void => {
    stop();
    process.exit(0);
  };
  process.on("SIGTERM", quit);
  process.on("SIGINT", quit);
}
