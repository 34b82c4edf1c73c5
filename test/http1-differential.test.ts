// Differential test of our HTTP/1.1 request parsing (head parser + chunked decoder) against Node's llhttp, on thousands
// of seeded hostile inputs: any disagreement that is not a documented stricter choice or a listed known bug fails.

import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { ChunkedDecodeError, ChunkedDecoder } from "../runtime/bun/http1-chunked.ts";
import { isHeadError, parseRequestHead } from "../runtime/bun/http1-head.ts";
import { generateCases, type FuzzCase } from "./support/http1-fuzz-cases.ts";

const SEED = 0x5eed_4711;
const CASES = 4000;
/** The whole reference run (spawn, 4000 parses, 4000 loopback connections) takes ~1 s; past this something hangs. */
const REFERENCE_TIMEOUT_MS = 15_000;
/** shared/config/defaults.ts: the inbound maxHeaderBytes the sidecar runs with. */
const MAX_HEADER_BYTES = 16384;

// ---------------------------------------------------------------------------------------------------------------
// One model of "what a connection makes of these bytes", filled in by both sides.

type Msg = {
  method: string;
  target: string;
  version: string;
  /** Names lower-cased, values as the parser reports them. */
  headers: Array<[string, string]>;
  keepAlive: boolean;
  /** The whole body arrived and was accepted. */
  complete: boolean;
  /** latin1; null unless complete. */
  body: string | null;
};
type End = { kind: "clean" | "incomplete" | "error" | "refused" | "closed" | "upgrade"; detail?: string };
type Outcome = { msgs: Msg[]; end: End };
/** Our side also knows where each message started, and where it stopped reading. */
type OurOutcome = Outcome & { starts: number[]; stoppedAt: number };

/**
 * Our verdict, driving parseRequestHead and ChunkedDecoder the way the connection's next() does (http1-connection.ts,
 * inbound-connection.ts before the rename): skip CRLFs before a request line, look for CRLFCRLF, 400 on a head ending
 * in bare LFs, 431 over maxHeaderBytes, 400 for a body on GET/HEAD, then the body by Content-Length or chunked; after a
 * non-keep-alive message the connection ends. Size and time limits (413, 408) are left out: they refuse by volume, not
 * by syntax, and llhttp has no counterpart.
 */
function ours(text: string): OurOutcome {
  const buf = Buffer.from(text, "latin1");
  const msgs: Msg[] = [];
  const starts: number[] = [];
  let pos = 0;
  const done = (end: End, stoppedAt: number): OurOutcome => ({ msgs, end, starts, stoppedAt });
  for (;;) {
    let start = pos;
    while (start + 1 < buf.length && buf[start] === 0x0d && buf[start + 1] === 0x0a) start += 2;
    if (start >= buf.length) return done({ kind: "clean" }, start);
    const end = buf.indexOf("\r\n\r\n", start, "latin1");
    if (end < 0) {
      if (buf.indexOf("\n\n", start, "latin1") >= 0) return done({ kind: "error", detail: "400 bare LF in head" }, start);
      if (buf.length - start > MAX_HEADER_BYTES) return done({ kind: "error", detail: "431 request head too large" }, start);
      return done({ kind: "incomplete", detail: "head" }, start);
    }
    if (end + 4 - start > MAX_HEADER_BYTES) return done({ kind: "error", detail: "431 request head too large" }, start);
    const head = parseRequestHead(buf.toString("latin1", start, end));
    if (isHeadError(head)) return done({ kind: "error", detail: `${head.status} ${head.reason}` }, start);
    const f = head.framing;
    if (f.kind !== "none" && (head.method === "GET" || head.method === "HEAD")) return done({ kind: "error", detail: "400 body on GET or HEAD" }, start);
    const msg: Msg = { method: head.method, target: head.target, version: head.version, headers: head.fields, keepAlive: head.keepAlive, complete: false, body: null };
    msgs.push(msg);
    starts.push(start);
    let p = end + 4;
    if (f.kind === "length") {
      if (buf.length - p < f.length) return done({ kind: "incomplete", detail: "body" }, start);
      msg.body = buf.toString("latin1", p, p + f.length);
      p += f.length;
    } else if (f.kind === "chunked") {
      const d = new ChunkedDecoder();
      let r;
      try {
        r = d.push(buf, p);
      } catch (e) {
        if (!(e instanceof ChunkedDecodeError)) throw e;
        return done({ kind: "error", detail: `400 ${e.message}` }, start);
      }
      if (!r.done) return done({ kind: "incomplete", detail: "chunked body" }, start);
      msg.body = Buffer.concat(r.chunks).toString("latin1");
      p = r.end;
    } else {
      msg.body = "";
    }
    msg.complete = true;
    if (!head.keepAlive) return done({ kind: "closed" }, p);
    pos = p;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The reference: Node's llhttp in a child process (see test/support/llhttp-reference.mjs).

type RefMsg = { method: string; target: string; version: string; headers: Array<[string, string]>; keepAlive: boolean; complete: boolean; body: string | null };
type RefEnd = { kind: End["kind"]; code?: string; reason?: string };
type RefAnswer = {
  results: Array<{ msgs: RefMsg[]; end: RefEnd }>;
  calibration: { checked: number; mismatches: unknown[] } | null;
  methods: string[];
  llhttp: string;
  node: string;
};

async function reference(cases: readonly FuzzCase[], calibrate: boolean): Promise<RefAnswer> {
  const node = Bun.which("node");
  if (!node) throw new Error("the differential test needs Node.js (`node` on PATH) as its reference HTTP parser");
  const job = JSON.stringify({ inputs: cases.map((c) => Buffer.from(c.text, "latin1").toString("base64")), calibrate });
  const script = new URL("./support/llhttp-reference.mjs", import.meta.url).pathname;
  const proc = Bun.spawn([node, script], { stdin: Buffer.from(job), stdout: "pipe", stderr: "pipe", timeout: REFERENCE_TIMEOUT_MS, killSignal: "SIGKILL" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (proc.signalCode) throw new Error(`llhttp reference killed (${proc.signalCode}) after ${REFERENCE_TIMEOUT_MS} ms: ${err}`);
  if (code !== 0) throw new Error(`llhttp reference exited with ${code}: ${err}`);
  return JSON.parse(out) as RefAnswer;
}

function fromRef(r: { msgs: RefMsg[]; end: RefEnd }): Outcome {
  return {
    msgs: r.msgs.map((m) => ({
      ...m,
      headers: m.headers.map(([n, v]) => [n.toLowerCase(), v] as [string, string]),
      body: m.body === null ? null : Buffer.from(m.body, "base64").toString("latin1"),
    })),
    end: { kind: r.end.kind, detail: [r.end.code, r.end.reason].filter(Boolean).join(" ") },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Comparison: the first point where the two parsers part ways.

type DisputeKind =
  /** llhttp delivered message `at` to the application; we refused it (or are still waiting for its head). */
  | "we-refuse"
  /** We delivered message `at`; llhttp refused it. The dangerous direction: a front end could see something else. */
  | "we-accept"
  /** Both delivered message `at` with a different method, target, version or fields. */
  | "head-differs"
  /** Both took the head; llhttp completed the body, we refused it (or wait for more). */
  | "we-refuse-body"
  /** Both took the head; we completed the body, llhttp refused it. */
  | "we-accept-body"
  /** Both completed message `at` with different bodies. */
  | "body-differs"
  /** Same message, but we close the connection after it where llhttp would read the next one. */
  | "we-close"
  /** Same message, but we read a next message where llhttp closes: the next bytes reach only us. */
  | "we-keep-open";

type Dispute = {
  readonly kind: DisputeKind;
  readonly at: number;
  /** The input from where the disputed message starts (as we framed it), latin1. */
  readonly rest: string;
  /** `rest` up to its first CRLF (or LF): the request line as sent. */
  readonly requestLine: string;
  /** `rest` up to the first CRLFCRLF (or all of it). */
  readonly head: string;
  readonly ours: OurOutcome;
  readonly ref: Outcome;
  readonly detail: string;
};

/**
 * llhttp hands over an absolute-form target as sent; our head parser checks its authority against Host and hands back
 * the origin-form path (RFC 9112 3.2.2), so that is what llhttp's target is compared as.
 */
function asOrigin(target: string): string {
  const m = /^https?:\/\/[^/?#]*([/?].*)?$/i.exec(target);
  if (!m) return target;
  const rest = m[1] ?? "/";
  return rest[0] === "?" ? `/${rest}` : rest;
}

const sameHeaders = (a: Array<[string, string]>, b: Array<[string, string]>): boolean =>
  a.length === b.length && a.every(([n, v], i) => b[i]![0] === n && b[i]![1] === v);

function dispute(text: string, o: OurOutcome, ref: Outcome): Dispute | undefined {
  const make = (kind: DisputeKind, at: number, detail: string): Dispute => {
    const from = at < o.starts.length ? o.starts[at]! : o.stoppedAt;
    const rest = text.slice(from);
    const eol = rest.search(/\r\n|\n/);
    const h = rest.indexOf("\r\n\r\n");
    return { kind, at, rest, requestLine: eol < 0 ? rest : rest.slice(0, eol), head: h < 0 ? rest : rest.slice(0, h), ours: o, ref, detail: detail.length > 400 ? `${detail.slice(0, 400)}…` : detail };
  };
  // A side that took the head and then failed on the body (not on EOF) refused the message too, just later.
  const refusedLate = (m: Msg, end: End): boolean => !m.complete && end.kind === "error";
  for (let i = 0; ; i++) {
    const a = o.msgs[i];
    const b = ref.msgs[i];
    if (!a && !b) return undefined;
    if (!a) return refusedLate(b!, ref.end) ? undefined : make("we-refuse", i, `ours: ${o.end.kind} ${o.end.detail ?? ""}`);
    if (!b) return refusedLate(a, o.end) ? undefined : make("we-accept", i, `llhttp: ${ref.end.kind} ${ref.end.detail ?? ""}`);
    const diffs: string[] = [];
    if (a.method !== b.method) diffs.push(`method ${JSON.stringify(a.method)} vs ${JSON.stringify(b.method)}`);
    if (a.target !== asOrigin(b.target)) diffs.push(`target ${JSON.stringify(a.target)} vs ${JSON.stringify(b.target)}`);
    if (a.version !== b.version) diffs.push(`version ${a.version} vs ${b.version}`);
    if (!sameHeaders(a.headers, b.headers)) {
      const only = (x: Array<[string, string]>, y: Array<[string, string]>): string => JSON.stringify(x.filter(([n, v]) => !y.some(([n2, v2]) => n === n2 && v === v2)));
      diffs.push(`fields ${only(a.headers, b.headers)} vs ${only(b.headers, a.headers)}`);
    }
    if (diffs.length > 0) return make("head-differs", i, diffs.join("; "));
    if (a.complete && !b.complete) return make("we-accept-body", i, `llhttp: ${ref.end.kind} ${ref.end.detail ?? ""}`);
    if (!a.complete && b.complete) return make("we-refuse-body", i, `ours: ${o.end.kind} ${o.end.detail ?? ""}`);
    if (!a.complete) return undefined;
    if (a.body !== b.body) return make("body-differs", i, `body ${JSON.stringify(a.body)} vs ${JSON.stringify(b.body)}`);
    if (a.keepAlive !== b.keepAlive) return make(a.keepAlive ? "we-keep-open" : "we-close", i, `keepAlive ${a.keepAlive} vs ${b.keepAlive}`);
    if (!a.keepAlive) return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Explained disagreements. Each entry names the input shape it covers and why; anything else fails the test.

type Allowance = { readonly name: string; readonly reason: string; readonly when: (d: Dispute) => boolean };

// Input shapes, read from the raw bytes of the disputed message (no trimming: the raw bytes are what is in dispute).

const OWS_EDGE = /^[ \t]+|[ \t]+$/g;
/** Field lines of the disputed head as [lower-cased name, raw value]. */
function rawFields(d: Dispute): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const line of d.head.split("\r\n").slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) out.push([line.slice(0, colon).toLowerCase(), line.slice(colon + 1)]);
  }
  return out;
}
const values = (d: Dispute, name: string): string[] => rawFields(d).filter(([n]) => n === name).map(([, v]) => v.replace(OWS_EDGE, ""));
const requestLine = (d: Dispute): string[] => d.requestLine.split(" ");
const methodOf = (d: Dispute): string => requestLine(d)[0] ?? "";
/** What follows the disputed head: the body and anything pipelined after it. */
const afterHead = (d: Dispute): string => d.rest.slice(d.head.length + 4);
const REFUSING: ReadonlySet<DisputeKind> = new Set(["we-refuse", "we-refuse-body", "we-close"]);
const HOST_RE = /^[A-Za-z0-9.\-_~!$&'()*+,;=%:[\]]*$/;
/** A method token without lower-case letters (lower- and mixed-case methods are refused, as by llhttp). */
const UPPER_TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Z]+$/;

/** We refuse (or close) where llhttp and node:http would go on: on purpose. Applies only to refusing kinds. */
const DELIBERATELY_STRICTER: readonly Allowance[] = [
  {
    name: "bare CR or LF before the request line",
    reason: "RFC 9112 2.2 allows skipping empty lines (CRLF); llhttp also skips lone CR and LF, we only skip CRLF pairs",
    when: (d) => /^[\r\n]/.test(d.rest),
  },
  {
    name: "request line with extra whitespace",
    reason: "RFC 9112 3: exactly one SP between method, target and version; llhttp tolerates runs of spaces",
    when: (d) => /^\S+ \S+ \S+$/.test(d.requestLine) === false && / {2}/.test(d.requestLine),
  },
  {
    name: "protocol other than HTTP/1.0 or HTTP/1.1",
    reason: "llhttp also takes HTTP/0.9, HTTP/2.0 and RTSP/1.0 request lines; we speak 1.0 and 1.1 only (505/400)",
    when: (d) => !/^(HTTP\/1\.[01])$/.test(requestLine(d)[2] ?? ""),
  },
  {
    name: "request target not origin-form, OPTIONS * or absolute-form naming Host",
    reason: "asterisk-form is for OPTIONS only, authority-form for CONNECT only; an absolute-form authority that is not Host is ambiguous routing",
    when: (d) => {
      const [method, target = ""] = requestLine(d);
      if (target.startsWith("/") || (method === "OPTIONS" && target === "*")) return false;
      const m = /^https?:\/\/([^/?#@]+)(?:[/?].*)?$/i.exec(target);
      return !m || values(d, "host").every((h) => h.toLowerCase() !== m[1]!.toLowerCase());
    },
  },
  {
    name: "more than one Host",
    reason: "RFC 9112 3.2: a server MUST answer 400 to a request with more than one Host field; node:http takes the first",
    when: (d) => values(d, "host").length > 1,
  },
  {
    name: "Host that is not a valid authority",
    reason: "Host builds the request URL we route on; llhttp does not look at it, we refuse characters outside reg-name/IP-literal/port",
    when: (d) => values(d, "host").some((h) => !HOST_RE.test(h)),
  },
  {
    name: "body framing on GET or HEAD",
    reason: "connection policy: a Web Request cannot carry a body on GET/HEAD and no mesh caller sends one (400)",
    when: (d) => /^(GET|HEAD)$/.test(methodOf(d)) && (values(d, "transfer-encoding").length > 0 || values(d, "content-length").some((v) => !/^0+$/.test(v))),
  },
  {
    name: "Transfer-Encoding other than one exact `chunked`",
    reason: "codings lists, empty values, repeated fields: we support only chunked (501/400); llhttp takes any list ending in chunked",
    when: (d) => {
      const te = values(d, "transfer-encoding");
      return te.length > 1 || te.some((v) => v.toLowerCase() !== "chunked");
    },
  },
  {
    name: "Transfer-Encoding on HTTP/1.0",
    reason: "RFC 9112 6.1: a 1.0 recipient cannot rely on chunked framing from a 1.0 sender; llhttp decodes it",
    when: (d) => requestLine(d)[2] === "HTTP/1.0" && values(d, "transfer-encoding").length > 0,
  },
  {
    name: "Content-Length longer than 15 digits",
    reason: "a length past 2^53 cannot be counted exactly in a JS number; llhttp allows up to 2^64-1, leading zeros included",
    when: (d) => values(d, "content-length").some((v) => /^[0-9]{16,}$/.test(v)),
  },
  {
    name: "Expect other than exactly 100-continue",
    reason: "417 for any other expectation (also on HTTP/1.0); node:http checks only 1.1 and matches 100-continue anywhere in the value",
    when: (d) => values(d, "expect").some((v) => v.toLowerCase() !== "100-continue"),
  },
  {
    name: "chunk size longer than 12 hex digits",
    reason: "bounded size line (2^48 is past any body limit); llhttp accepts any number of leading zeros",
    when: (d) => /(^|\n)[0-9A-Fa-f]{13,}(;|\r\n)/.test(afterHead(d)),
  },
  {
    name: "we close where llhttp would keep the connection",
    reason: "`Connection: close, keep-alive` on 1.0, or a close token llhttp does not recognise: closing early never lets a byte through",
    when: (d) => d.kind === "we-close",
  },
];

/** We accept what llhttp refuses, on purpose: each entry says why it cannot move a message boundary. Applies to "we-accept" and "we-keep-open" only. */
const DELIBERATELY_LENIENT: readonly Allowance[] = [
  {
    name: "upper-case extension method",
    reason: "RFC 9110 9.1 methods are open-ended tokens; llhttp knows a fixed table (PRI and RTSP verbs refused); our framing never depends on the method beyond GET/HEAD/CONNECT",
    when: (d) => d.kind === "we-accept" && UPPER_TOKEN_RE.test(methodOf(d)) && !LLHTTP_METHODS.has(methodOf(d)),
  },
  {
    name: "HTAB after a Connection token",
    reason: "RFC 9110 5.6.1 OWS includes HTAB; llhttp only skips SP before matching keep-alive: only decides whether we read a next request, never its framing",
    when: (d) => d.kind === "we-keep-open" && rawFields(d).some(([n, v]) => n === "connection" && /\t[ \t]*$/.test(v)),
  },
];

/**
 * Parser bugs found by this test (we accept, or read differently, what llhttp refuses). Fix the parser, then delete the
 * entry: the last test fails while an entry no longer matches anything, so fixed bugs cannot linger here.
 */
// The four bugs this test found first (String.trim() on field values, unchecked trailers, whitespace deleted from
// chunk extensions, a trailing HTAB on framing fields) are fixed; a new one goes here until it is.
const KNOWN_BUGS: readonly Allowance[] = [];

// ---------------------------------------------------------------------------------------------------------------

const cases = generateCases(SEED, CASES);
const answer = await reference(cases, true);
const LLHTTP_METHODS: ReadonlySet<string> = new Set(answer.methods);
const verdicts = cases.map((c, i) => {
  const o = ours(c.text);
  const ref = fromRef(answer.results[i]!);
  return { c, o, ref, d: dispute(c.text, o, ref) };
});

/** The entry that explains a disagreement: deliberate choices first (they are narrower in kind), then known bugs. */
function explain(d: Dispute): Allowance | undefined {
  if (REFUSING.has(d.kind)) {
    const a = DELIBERATELY_STRICTER.find((x) => x.when(d));
    if (a) return a;
  }
  if (d.kind === "we-accept" || d.kind === "we-keep-open") {
    const a = DELIBERATELY_LENIENT.find((x) => x.when(d));
    if (a) return a;
  }
  return KNOWN_BUGS.find((x) => x.when(d));
}
const explained = verdicts.map((v) => (v.d ? explain(v.d) : undefined));

const show = (s: string, max = 300): string => JSON.stringify(s.length > max ? `${s.slice(0, max)}…(${s.length} bytes)` : s);

describe(`HTTP/1.1 parsing agrees with llhttp ${answer.llhttp} (node ${answer.node}), seed ${SEED.toString(16)}, ${CASES} cases`, () => {
  test("the reference emulation matches a real node:http server on every input", () => {
    expect(answer.calibration?.mismatches ?? ["calibration did not run"]).toEqual([]);
  });

  test("untouched seed requests agree exactly", () => {
    const seeds = verdicts.filter((v) => !v.c.label.includes(" + ") && !v.c.label.startsWith("classic:"));
    expect(seeds.length).toBeGreaterThan(100);
    expect(seeds.filter((v) => v.d || v.o.msgs.length === 0 || v.o.msgs.some((m) => !m.complete)).map((v) => v.c.id)).toEqual([]);
  });

  test("the generator exercises both acceptance and refusal", () => {
    const bothAccept = verdicts.filter((v) => v.o.msgs.length > 0 && v.ref.msgs.length > 0).length;
    const bothRefuse = verdicts.filter((v) => v.o.msgs.length === 0 && v.ref.msgs.length === 0).length;
    expect(bothAccept).toBeGreaterThan(CASES * 0.2);
    expect(bothRefuse).toBeGreaterThan(CASES * 0.2);
  });

  test("every disagreement is a documented stricter choice or a listed known bug", () => {
    const used = new Map<string, number>();
    const unexplained: string[] = [];
    for (const [i, { c, d }] of verdicts.entries()) {
      if (!d) continue;
      const hit = explained[i];
      if (hit) used.set(hit.name, (used.get(hit.name) ?? 0) + 1);
      else unexplained.push(`#${c.id} [${c.label}] ${d.kind} at message ${d.at}: ${d.detail}\n    input: ${show(c.text)}\n    disputed: ${show(d.rest, 160)}`);
    }
    if (process.env.HTTP1_DIFF_VERBOSE) console.log([...used].map(([n, k]) => `${n}: ${k}`).join("\n"));
    // HTTP1_DIFF_DUMP=<file>: every disagreement, explained or not, as JSON, for investigating a change.
    if (process.env.HTTP1_DIFF_DUMP) {
      const all = verdicts.filter((v) => v.d).map(({ c, d }) => ({ id: c.id, label: c.label, text: c.text, kind: d!.kind, at: d!.at, detail: d!.detail, ours: d!.ours.end, ref: d!.ref.end, rest: d!.rest }));
      writeFileSync(process.env.HTTP1_DIFF_DUMP, JSON.stringify(all, null, 1));
    }
    if (unexplained.length > 0) throw new Error(`${unexplained.length} unexplained disagreement(s) with llhttp:\n${unexplained.slice(0, 40).join("\n")}`);
  });

  test("every known bug still reproduces (delete entries once fixed)", () => {
    const stale = KNOWN_BUGS.filter((a) => !explained.includes(a)).map((a) => a.name);
    expect(stale).toEqual([]);
  });
});
