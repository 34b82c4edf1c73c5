// Differential tests: the byte encoder against the string formatter's UTF-8 over random events (escapes, non-ASCII,
// lone surrogates, odd numbers and durations), plus the "does not fit" contract the sinks rely on.
import { describe, expect, test } from "bun:test";
import { encodeAccessLine } from "./access-line-bytes.ts";
import { formatAccessLine } from "./access-log.ts";
import { propagateTrace } from "./trace-hop.ts";
import type { RequestEvent } from "./observe.ts";

const event = (over: Partial<RequestEvent> = {}): RequestEvent => ({
  listener: "outbound", method: "GET", path: "/a?b=1", status: 200, cause: undefined, requestId: "r1", startedAt: 0, durationMs: 1.5,
  route: "echo-split", cluster: "echo", endpoint: undefined, attempts: 1, peer: undefined, authz: undefined, bytesIn: undefined, bytesOut: undefined, ...over,
});
const utf8 = new TextEncoder();

function encoded(name: string, e: RequestEvent, now: number, size = 64 * 1024, at = 0): Uint8Array | undefined {
  const buf = new Uint8Array(size);
  const end = encodeAccessLine(buf, at, name, e, now);
  return end < 0 ? undefined : buf.slice(at, end);
}

// A small deterministic generator, so a failure names a seed that reproduces it.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32);
}
const PIECES = ["a", "/", "-", "0", "Z", '"', "\\", "\n", "\t", "\u0000", "\u001f", "\u007f", "é", "ü", "€", "😀", "\ud800", "\udc00", " ", "?x=1", "%2F"];

function randomText(r: () => number, max: number): string {
  let s = "";
  const n = Math.floor(r() * max);
  for (let i = 0; i < n; i++) s += r() < 0.7 ? String.fromCharCode(0x20 + Math.floor(r() * 95)) : PIECES[Math.floor(r() * PIECES.length)]!;
  return s;
}

describe("encodeAccessLine is formatAccessLine in UTF-8", () => {
  test("ordinary events, every optional field on and off", () => {
    const trace = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", parentSpanId: undefined, sampled: false, tracestate: undefined, from: undefined };
    const cases: Array<Partial<RequestEvent>> = [
      {}, { route: undefined, attempts: 0 }, { route: undefined, attempts: 2 }, { endpoint: "echo-1" }, { cause: "timeout", status: 504 },
      { peer: "spiffe://mesh.local/ns/default/svc/web" }, { fault: "delay+abort" }, { trace }, { status: 0 }, { durationMs: 0 },
    ];
    for (const c of cases) expect(encoded("sidecar/echo", event(c), 1764316800123)).toEqual(utf8.encode(formatAccessLine("sidecar/echo", event(c), 1764316800123)));
  });

  test("a hop made with its traceparent: the ids are copied out of it, the same bytes as the ids themselves", () => {
    for (const headers of [new Headers(), new Headers({ traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" })]) {
      const trace = propagateTrace(headers, 1)!;
      expect(trace.traceparent).toBeDefined();
      const line = new TextDecoder().decode(encoded("sidecar/echo", event({ trace }), 1));
      expect(line).toBe(formatAccessLine("sidecar/echo", event({ trace }), 1));
      expect(line).toContain(`"traceId":"${trace.traceId}","spanId":"${trace.spanId}"`);
    }
  });

  test("durations print as `${Math.round(ms * 100) / 100}` does", () => {
    const ms = [0, -0, 0.004, 0.005, 0.01, 0.1, 0.29, 1, 1.005, 1.05, 1.5, 2.675, 10.1, 99.99, 123456.78, 21474836.47, 21474836.48, 1e12, -1.5, NaN, Infinity];
    for (const durationMs of ms) expect(new TextDecoder().decode(encoded("x", event({ durationMs }), 1))).toBe(formatAccessLine("x", event({ durationMs }), 1));
  });

  test("integers either side of the int32 and 10^8 seams print as `${n}` does (times, statuses, attempts)", () => {
    const ns = [0, 1, 9, 10, 99999999, 100000000, 100000001, 2147483647, 2147483648, 4294967296, 1764316800000, 1764316800005, 1764300000000, 1000000000000,
      1764316799999, 9007199254740991, 9007199254740992, 9007199254740993, 1.5, -1, -0, NaN, Infinity, 1e21, 2 ** 60];
    for (const n of ns) {
      for (const e of [event(), event({ status: n, attempts: n })]) {
        expect(new TextDecoder().decode(encoded("x", e, n))).toBe(formatAccessLine("x", e, n));
      }
    }
  });

  test("20,000 random events: escapes, non-ASCII, lone surrogates, odd numbers", () => {
    const r = rng(11);
    for (let i = 0; i < 20_000; i++) {
      const e = event({
        path: randomText(r, 40), method: randomText(r, 6), requestId: randomText(r, 40), listener: r() < 0.5 ? "inbound" : randomText(r, 10),
        route: r() < 0.3 ? undefined : randomText(r, 12), endpoint: r() < 0.5 ? undefined : randomText(r, 12), cause: r() < 0.7 ? undefined : randomText(r, 10),
        peer: r() < 0.5 ? undefined : randomText(r, 50), status: r() < 0.9 ? Math.floor(r() * 600) : r() * 1000,
        attempts: Math.floor(r() * 4), durationMs: r() < 0.9 ? r() * 3000 : (r() - 0.5) * 1e10,
      });
      const now = r() < 0.9 ? 1764316800000 + Math.floor(r() * 1e6) : Math.floor(r() * 100);
      const name = randomText(r, 20);
      const want = utf8.encode(formatAccessLine(name, e, now));
      const got = encoded(name, e, now);
      if (got === undefined || Buffer.compare(Buffer.from(got), Buffer.from(want)) !== 0) {
        throw new Error(`event ${i} differs:\n${JSON.stringify(e)}\n${formatAccessLine(name, e, now)}\n${got && new TextDecoder().decode(got)}`);
      }
    }
  });
});

describe("the fit contract", () => {
  test("-1 when the line does not fit, at any size short of it; written from `at`, bytes before it untouched", () => {
    const e = event({ path: "/é\"x", peer: "spiffe://mesh.local/ns/default/svc/web", endpoint: "echo-1" });
    const want = utf8.encode(formatAccessLine("n", e, 1764316800000));
    for (let size = 0; size < want.length; size++) expect(encoded("n", e, 1764316800000, size)).toBeUndefined();
    expect(encoded("n", e, 1764316800000, want.length)).toEqual(want);
    const buf = new Uint8Array(want.length + 10).fill(7);
    expect(encodeAccessLine(buf, 10, "n", e, 1764316800000)).toBe(want.length + 10);
    expect([...buf.subarray(0, 10)]).toEqual(Array(10).fill(7));
    expect(buf.subarray(10)).toEqual(want);
  });
});
