// Incremental decoder and encoder for HTTP/1.1 chunked bodies, fed straight from socket reads.
// Strict: hex sizes only, CRLF exactly where the grammar says, bounded size lines and trailers (trailers are dropped).

const MAX_LINE = 4096;
const TRAILER_RE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[\t\x20-\x7e\x80-\xff]*$/;

type State = "size" | "data" | "data-cr" | "data-lf" | "trailer" | "done";

export class ChunkedDecodeError extends Error {
  override readonly name = "ChunkedDecodeError";
}

/** `end` = index in the input just past what was consumed. */
export type ChunkedResult = { end: number; chunks: Uint8Array[]; done: boolean };

export class ChunkedDecoder {
  private state: State = "size";
  private line = "";
  private remaining = 0;
  private trailerBytes = 0;

  get done(): boolean {
    return this.state === "done";
  }

  /** Decodes as much of `buf` (from index `from`) as possible; data chunks are views into `buf`. Throws ChunkedDecodeError. */
  push(buf: Uint8Array, from = 0): ChunkedResult {
    const chunks: Uint8Array[] = [];
    let i = from;
    while (i < buf.length && this.state !== "done") {
      switch (this.state) {
        case "size":
        case "trailer": {
          const lf = buf.indexOf(0x0a, i);
          const end = lf < 0 ? buf.length : lf + 1;
          for (let j = i; j < end; j++) this.line += String.fromCharCode(buf[j]!);
          i = end;
          if (this.line.length > MAX_LINE) throw new ChunkedDecodeError("chunk line too long");
          if (lf < 0) break;
          if (!this.line.endsWith("\r\n")) throw new ChunkedDecodeError("bare LF in chunked body");
          const text = this.line.slice(0, -2);
          this.line = "";
          if (text.includes("\r") || text.includes("\0")) throw new ChunkedDecodeError("bare CR or NUL in chunk line");
          if (this.state === "size") this.onSizeLine(text);
          else this.onTrailerLine(text);
          break;
        }
        case "data": {
          const n = Math.min(this.remaining, buf.length - i);
          chunks.push(buf.subarray(i, i + n));
          i += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = "data-cr";
          break;
        }
        case "data-cr":
          if (buf[i++] !== 0x0d) throw new ChunkedDecodeError("missing CRLF after chunk data");
          this.state = "data-lf";
          break;
        case "data-lf":
          if (buf[i++] !== 0x0a) throw new ChunkedDecodeError("missing CRLF after chunk data");
          this.state = "size";
          break;
      }
    }
    return { end: i, chunks, done: this.state === "done" };
  }

  private onSizeLine(text: string): void {
    const semi = text.indexOf(";");
    const hex = semi < 0 ? text : text.slice(0, semi);
    if (!/^[0-9A-Fa-f]{1,12}$/.test(hex)) throw new ChunkedDecodeError("invalid chunk size");
    // Validated as received: no whitespace inside extensions (llhttp refuses it; deleting it first let "5;a b" pass).
    if (semi >= 0 && !/^(;[!#$%&'*+\-.^_`|~0-9A-Za-z]+(=[!#$%&'*+\-.^_`|~0-9A-Za-z]+|="[^"\\]*")?)+$/.test(text.slice(semi))) {
      throw new ChunkedDecodeError("invalid chunk extension");
    }
    const size = parseInt(hex, 16);
    if (size === 0) this.state = "trailer";
    else {
      this.remaining = size;
      this.state = "data";
    }
  }

  private onTrailerLine(text: string): void {
    if (text.length === 0) {
      this.state = "done";
      return;
    }
    this.trailerBytes += text.length;
    if (this.trailerBytes > MAX_LINE) throw new ChunkedDecodeError("trailers too large");
    // Trailers are dropped, but checked like head fields so a malformed one can't be read differently elsewhere;
    // framing fields are never legal as trailers (RFC 9110 6.5.1).
    const m = TRAILER_RE.exec(text);
    if (m === null) throw new ChunkedDecodeError("malformed trailer");
    const name = m[1]!.toLowerCase();
    if (name === "content-length" || name === "transfer-encoding") throw new ChunkedDecodeError(`${name} is not allowed as a trailer`);
  }
}

const CRLF = new Uint8Array([0x0d, 0x0a]);
export const LAST_CHUNK = new TextEncoder().encode("0\r\n\r\n");

/** One chunk on the wire: size line, data, CRLF. */
export function encodeChunk(data: Uint8Array): Uint8Array {
  const head = new TextEncoder().encode(data.length.toString(16) + "\r\n");
  const out = new Uint8Array(head.length + data.length + 2);
  out.set(head, 0);
  out.set(data, head.length);
  out.set(CRLF, head.length + data.length);
  return out;
}
