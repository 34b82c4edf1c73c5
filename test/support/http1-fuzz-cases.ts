// Seeded generator of hostile HTTP/1.1 request streams for the differential parser test (test/http1-differential.test.ts).
// Valid seed requests, then mutations that matter for request smuggling, then random byte damage; all text is latin1.

/** mulberry32: tiny, fast, and the same sequence on every runtime, which is all a fixed-seed test needs. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type FuzzCase = {
  readonly id: number;
  /** Seed request and the mutations applied, for the failure report. */
  readonly label: string;
  /** The bytes one connection carries (then EOF), as latin1 text. */
  readonly text: string;
};

class Rng {
  private readonly f: () => number;
  constructor(seed: number) {
    this.f = mulberry32(seed);
  }
  int(n: number): number {
    return Math.floor(this.f() * n);
  }
  chance(p: number): boolean {
    return this.f() < p;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }
}

type Field = { name: string; value: string; sep?: string };
type Chunk = { size: string; ext: string; data: string; after: string };
type Body =
  | { kind: "raw"; data: string }
  | { kind: "chunked"; chunks: Chunk[]; lastSize: string; lastExt: string; trailers: string[]; end: string };
type Msg = { method: string; target: string; version: string; sp1: string; sp2: string; eol: string; fields: Field[]; body: Body };
type Stream = { name: string; prefix: string; msgs: Msg[]; suffix: string };

function serialize(s: Stream): string {
  let out = s.prefix;
  for (const m of s.msgs) {
    out += `${m.method}${m.sp1}${m.target}${m.sp2}${m.version}${m.eol}`;
    for (const f of m.fields) out += `${f.name}${f.sep ?? ": "}${f.value}\r\n`;
    out += "\r\n";
    const b = m.body;
    if (b.kind === "raw") out += b.data;
    else {
      for (const c of b.chunks) out += `${c.size}${c.ext}\r\n${c.data}${c.after}`;
      out += `${b.lastSize}${b.lastExt}\r\n`;
      for (const t of b.trailers) out += `${t}\r\n`;
      out += b.end;
    }
  }
  return out + s.suffix;
}

// ---------------------------------------------------------------------------------------------------------------
// Seeds: well-formed requests both parsers must accept identically.

const BODY_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789 {}\":,\r\n\x00\xe9\xff";

function randomData(r: Rng, max: number): string {
  let s = "";
  const n = r.int(max + 1);
  for (let i = 0; i < n; i++) s += r.chance(0.8) ? BODY_ALPHABET[r.int(36)] : r.pick([...BODY_ALPHABET]);
  return s;
}

function msg(method: string, target: string, fields: Array<[string, string]>, body: Body = { kind: "raw", data: "" }, version = "HTTP/1.1"): Msg {
  return { method, target, version, sp1: " ", sp2: " ", eol: "\r\n", fields: fields.map(([name, value]) => ({ name, value })), body };
}

function chunkedBody(r: Rng, withExtras: boolean): Body {
  const chunks: Chunk[] = [];
  const n = 1 + r.int(3);
  for (let i = 0; i < n; i++) {
    const data = randomData(r, 24) || "x";
    const hex = data.length.toString(16);
    chunks.push({ size: withExtras && r.chance(0.3) ? hex.toUpperCase().padStart(3, "0") : hex, ext: withExtras && r.chance(0.4) ? r.pick([";a", ";a=b", ';name="quoted value"', ";x=1;y=2"]) : "", data, after: "\r\n" });
  }
  const trailers = withExtras && r.chance(0.5) ? [r.pick(["X-Checksum: abc", "Expires: 0", "X-T: caf\xe9"])] : [];
  return { kind: "chunked", chunks, lastSize: "0", lastExt: "", trailers, end: "\r\n" };
}

function rawBody(r: Rng): { data: string; cl: string } {
  const data = randomData(r, 40);
  return { data, cl: String(data.length) };
}

type Seed = (r: Rng) => Stream;

const SEEDS: Record<string, Seed> = {
  get: () => ({ name: "get", prefix: "", msgs: [msg("GET", "/api/v1/items?id=7&x=%20", [["Host", "svc.local:8080"], ["User-Agent", "mesh-test/1.0"], ["Accept", "*/*"]])], suffix: "" }),
  "post-cl": (r) => {
    const b = rawBody(r);
    return { name: "post-cl", prefix: "", msgs: [msg("POST", "/submit", [["Host", "svc.local"], ["Content-Type", "application/json"], ["Content-Length", b.cl]], { kind: "raw", data: b.data })], suffix: "" };
  },
  "post-chunked": (r) => ({ name: "post-chunked", prefix: "", msgs: [msg("POST", "/upload", [["Host", "svc.local"], ["Transfer-Encoding", "chunked"]], chunkedBody(r, true))], suffix: "" }),
  "put-expect": (r) => {
    const b = rawBody(r);
    return { name: "put-expect", prefix: "", msgs: [msg("PUT", "/obj/1", [["Host", "svc"], ["Expect", "100-continue"], ["Content-Length", b.cl]], { kind: "raw", data: b.data })], suffix: "" };
  },
  http10: () => ({ name: "http10", prefix: "", msgs: [msg("GET", "/legacy", [["User-Agent", "old"]], undefined, "HTTP/1.0")], suffix: "" }),
  "http10-keepalive": (r) => {
    const b = rawBody(r);
    return {
      name: "http10-keepalive",
      prefix: "",
      msgs: [msg("POST", "/a", [["Host", "svc"], ["Connection", "keep-alive"], ["Content-Length", b.cl]], { kind: "raw", data: b.data }, "HTTP/1.0"), msg("GET", "/b", [["Host", "svc"]], undefined, "HTTP/1.0")],
      suffix: "",
    };
  },
  "absolute-form": () => ({ name: "absolute-form", prefix: "", msgs: [msg("GET", "http://svc.local/path?q=1", [["Host", "svc.local"]])], suffix: "" }),
  "options-star": () => ({ name: "options-star", prefix: "", msgs: [msg("OPTIONS", "*", [["Host", "svc.local"]])], suffix: "" }),
  "delete-close": () => ({ name: "delete-close", prefix: "", msgs: [msg("DELETE", "/obj/9", [["Host", "svc"], ["Connection", "close"]])], suffix: "" }),
  head: () => ({ name: "head", prefix: "", msgs: [msg("HEAD", "/", [["Host", "svc"], ["Content-Length", "0"]])], suffix: "" }),
  "patch-chunked-upper": (r) => {
    const body = chunkedBody(r, true);
    if (body.kind === "chunked") for (const c of body.chunks) c.size = c.size.toUpperCase();
    return { name: "patch-chunked-upper", prefix: "", msgs: [msg("PATCH", "/doc", [["Host", "svc"], ["Transfer-Encoding", "Chunked"], ["Connection", "keep-alive"]], body)], suffix: "" };
  },
  pipeline: (r) => {
    const b = rawBody(r);
    return {
      name: "pipeline",
      prefix: "",
      msgs: [
        msg("POST", "/one", [["Host", "svc"], ["Content-Length", b.cl]], { kind: "raw", data: b.data }),
        msg("POST", "/two", [["Host", "svc"], ["Transfer-Encoding", "chunked"]], chunkedBody(r, false)),
        msg("GET", "/three", [["Host", "svc"], ["Connection", "close"]]),
      ],
      suffix: "",
    };
  },
  "leading-crlf": () => ({ name: "leading-crlf", prefix: "\r\n\r\n", msgs: [msg("GET", "/", [["Host", "svc"]])], suffix: "" }),
  "empty-values": () => ({ name: "empty-values", prefix: "", msgs: [msg("GET", "/", [["Host", "svc"], ["X-Empty", ""], ["X-Spaces", "  a  b  "], ["X-Obs", "caf\xe9"]])], suffix: "" }),
};

// ---------------------------------------------------------------------------------------------------------------
// Structured mutations: each picks one thing a smuggling or desync attack plays with.

type Mutation = (s: Stream, r: Rng) => void;

const idx = (m: Msg, name: string): number => m.fields.findIndex((f) => f.name.toLowerCase() === name);
const target = (s: Stream, r: Rng): Msg => {
  const withBody = s.msgs.filter((m) => m.body.kind === "chunked" || idx(m, "content-length") >= 0);
  return withBody.length > 0 && r.chance(0.7) ? r.pick(withBody) : r.pick(s.msgs);
};
const insertField = (m: Msg, r: Rng, f: Field): void => {
  m.fields.splice(r.int(m.fields.length + 1), 0, f);
};
const asChunked = (m: Msg, r: Rng): void => {
  if (m.body.kind !== "chunked") m.body = chunkedBody(r, r.chance(0.5));
};

const CL_ODD = ["+5", "-1", "0x5", "5.0", "1e1", "", " ", "05", "0000000000000000000000005", "5 5", "5,5", "5, 5", "5,", "99999999999999999999", "18446744073709551616", "18446744073709551615", "999999999999999", "9999999999999999", "4294967296", "\xb5", "5\x00", "5\x0b", "\x0c5"];
const TE_VARIANTS = [
  "chunked", "Chunked", "CHUNKED", " chunked", "chunked ", "\tchunked", "chunked\t", "chunked, identity", "identity, chunked", "gzip, chunked",
  "chunked, gzip", "chunked,chunked", "chunked, chunked", "xchunked", "chunkedx", "chunked,", ",chunked", ", chunked", "chunked;q=1", "",
  "identity", "gzip", "chunk", "chunked\x00", "\x0bchunked", "chunked\x0c", "chunked\xa0", "\xa0chunked", "chun\xa0ked", "cHuNkEd", '"chunked"', "chunked\r\n ",
];
const NAME_VARIANTS: Record<string, string[]> = {
  "transfer-encoding": ["Transfer-Encoding ", "Transfer-Encoding\t", "Transfer_Encoding", "transfer-encoding", "TRANSFER-ENCODING", " Transfer-Encoding", "X-Transfer-Encoding", "Transfer-Encoding\x00", "Transfer-Encodin\xe7", "Transfer\x0bEncoding"],
  "content-length": ["Content-Length ", "Content-Length\t", "Content_Length", "content-length", "CONTENT-LENGTH", " Content-Length", "Content-Length\x00", "Content-Lengt\xe8"],
  host: ["Host ", "host", "HOST", " Host", "Ho\x00st", "H\xf6st"],
};
const METHODS = ["get", "Get", "gET", "post", "FOO", "PURGE", "QUERY", "M-SEARCH", "PRI", "CONNECT", "TRACE", "SEARCH", "PROPFIND", "G\x80T", "GET\x00", "", "GE", "GETX", "G-T", "GET/", "DESCRIBE", "SETUP", "ACL", "MKCALENDAR", "LINK", "PATCH", "patch"];
const TARGETS = ["*", "http://svc.local/x", "HTTP://svc.local/x", "http://other.local/x", "https://svc.local/x", "http://svc.local", "//svc.local/x", "/a b", "/a\tb", "/\x7f", "/\xe9", "/#frag", "?q=1", "", "/%00", "/a?b=c&d=/e", "*x", "/\\x", "/'\"<>", "/{}|^`", "/\x00", "/\x01", "svc.local:80", "/a\x0bb", "/a\x0cb"];
const VERSIONS = ["HTTP/1.2", "HTTP/2.0", "HTTP/3.0", "http/1.1", "HTTP/1", "HTTP/1.10", "HTTP/0.9", "HTTP/9.9", "HTTP/1.1 ", "HTTP /1.1", "RTSP/1.0", "ICE/1.0", "HTTP/1.0", "HTTP/11", "HTTP/1.1\t", "HTTP/1.1\x00", "HTTP/1.\xb9", "HTTP/01.1", "HTTP/1.01", "HTTPS/1.1", "HTTP/2"];
const SPACES: Array<[string, string]> = [["  ", " "], [" ", "  "], ["\t", " "], [" ", "\t"], ["\x0b", " "], [" ", "\xa0"], [" ", " \r"]];
const CONNECTION = ["close", "keep-alive", "Keep-Alive", "CLOSE", "close, keep-alive", "keep-alive, close", "x-foo, close", "x-foo,close", "upgrade", "close\xa0", "\xa0close", "clos", "closed", "", " , close ,", "close\x0b", "te, close", "keep-alive\t"];
const EXPECT = ["100-continue", "100-Continue", "foo", "100-continue, foo", "100-continue\xa0", "100-continue\x0b", " 100-continue", "100-continuex"];
const WS = [" ", "\t", "\x0b", "\x0c", "\xa0", "\x85", "\x1c", "\x1f", "\u00a0\u00a0"];
const CTLS = ["\x01", "\x7f", "\x00", "\x1b", "\x0b", "\x0c", "\x08"];
const HOSTS = ["a b", "a@b", "a/b", "", "[::1]:80", "a\xe9", "a:b:c", "svc.local:", "svc.local:99999", "%41", "a\tb", "a_b", "[v", "a\\b", "a\x00b", "svc.local\xa0"];
const CHUNK_SIZES = ["ffffffffffffffffff", "10000000000000000", "fffffffffffff", "1000000000000", "0x5", "-5", " 5", "5 ", "5\t", "\t5", "+5", "0005", "5\x00", "5\x0b", "g", "", " ", "5 ;a=b", "5;", "5\r"];
const CHUNK_EXTS = [";a", ";a=b", "; a=b", ";a =b", ";a= b", ';a="q"', ';a="q\\"x"', ';a="q\\\\"', ';a="unterminated', ";", ";=b", ";a=", ";a b", ";a=b c", ";a\xe9", ";a=\xe9", ";a=\x01", ";a=b;", ";;", ";a=b;c", "\t;a", " ;a", ";a=b\x00"];
const CHUNK_AFTER = ["", "\n", "\r", "XX", "\r\r\n", "\n\r", " \r\n", "\r\n\r\n"];
const LAST_SIZES = ["00", "000000000000000000000", "0 ", "0\t", " 0", "0x0", "-0", "+0", "O"];
const TRAILERS = ["X-T: v", "Content-Length: 5", "Transfer-Encoding: chunked", " obs-fold", "\tobs", "NoColon", "T: \x01", "T : v", "T:\xe9", "T\xe9: v", ": v", "T: v\x00", "T: a\r\n b", "Host: evil", "T: v\x0b", "T:"];
const BODY_END = ["", "\n", "\r", "X", "\r\n\r\n"];

const MUTATIONS: Record<string, Mutation> = {
  "dup-cl-same": (s, r) => {
    const m = target(s, r);
    const i = idx(m, "content-length");
    insertField(m, r, { name: "Content-Length", value: i >= 0 ? m.fields[i]!.value : "0" });
  },
  "dup-cl-diff": (s, r) => {
    const m = target(s, r);
    insertField(m, r, { name: r.pick(["Content-Length", "content-length"]), value: String(r.int(60)) });
  },
  "cl-odd": (s, r) => {
    const m = target(s, r);
    const i = idx(m, "content-length");
    const value = r.pick(CL_ODD);
    if (i >= 0) m.fields[i]!.value = value;
    else insertField(m, r, { name: "Content-Length", value });
  },
  "cl-wrong": (s, r) => {
    const m = target(s, r);
    const i = idx(m, "content-length");
    const len = m.body.kind === "raw" ? m.body.data.length : 5;
    const value = String(Math.max(0, len + r.pick([-3, -1, 1, 2, 40])));
    if (i >= 0) m.fields[i]!.value = value;
    else insertField(m, r, { name: "Content-Length", value });
  },
  "cl+te": (s, r) => {
    const m = target(s, r);
    if (idx(m, "content-length") < 0) insertField(m, r, { name: "Content-Length", value: String(r.int(30)) });
    if (idx(m, "transfer-encoding") < 0) insertField(m, r, { name: "Transfer-Encoding", value: r.pick(["chunked", "chunked", "Chunked", " chunked"]) });
    if (r.chance(0.5)) asChunked(m, r);
  },
  "te-variant": (s, r) => {
    const m = target(s, r);
    const i = idx(m, "transfer-encoding");
    const value = r.pick(TE_VARIANTS);
    if (i >= 0) m.fields[i]!.value = value;
    else {
      const cl = idx(m, "content-length");
      if (cl >= 0 && r.chance(0.7)) m.fields.splice(cl, 1);
      insertField(m, r, { name: "Transfer-Encoding", value });
    }
    asChunked(m, r);
  },
  "te-dup": (s, r) => {
    const m = target(s, r);
    if (idx(m, "transfer-encoding") < 0) insertField(m, r, { name: "Transfer-Encoding", value: "chunked" });
    insertField(m, r, { name: "Transfer-Encoding", value: r.pick(["chunked", "identity", "gzip", ""]) });
    asChunked(m, r);
  },
  "name-variant": (s, r) => {
    const m = target(s, r);
    const key = r.pick(Object.keys(NAME_VARIANTS));
    const i = idx(m, key);
    const name = r.pick(NAME_VARIANTS[key]!);
    if (i >= 0) m.fields[i]!.name = name;
    else insertField(m, r, { name, value: key === "transfer-encoding" ? "chunked" : key === "host" ? "svc" : "5" });
  },
  "space-before-colon": (s, r) => {
    const m = target(s, r);
    if (m.fields.length > 0) r.pick(m.fields).sep = r.pick([" : ", "\t: ", " :", ":", "::", ": \t", ":\t"]);
  },
  "obs-fold": (s, r) => {
    const m = target(s, r);
    if (m.fields.length === 0) return;
    const f = r.pick(m.fields);
    const fold = r.pick(["\r\n ", "\r\n\t", "\r\n  \t"]);
    if (r.chance(0.5)) f.value = `${fold}${f.value}`;
    else f.value = `${f.value}${fold}${r.pick(["x", "chunked", "close", ""])}`;
  },
  "host-missing": (s, r) => {
    for (const m of s.msgs) if (r.chance(0.7)) m.fields = m.fields.filter((f) => f.name.toLowerCase() !== "host");
  },
  "host-dup": (s, r) => {
    insertField(target(s, r), r, { name: r.pick(["Host", "host"]), value: r.pick(["svc", "svc.local", "other.local"]) });
  },
  "host-odd": (s, r) => {
    const m = target(s, r);
    const i = idx(m, "host");
    const value = r.pick(HOSTS);
    if (i >= 0) m.fields[i]!.value = value;
    else insertField(m, r, { name: "Host", value });
  },
  method: (s, r) => {
    target(s, r).method = r.pick(METHODS);
  },
  target: (s, r) => {
    target(s, r).target = r.pick(TARGETS);
  },
  version: (s, r) => {
    target(s, r).version = r.pick(VERSIONS);
  },
  "line-spacing": (s, r) => {
    const m = target(s, r);
    [m.sp1, m.sp2] = r.pick(SPACES);
    if (r.chance(0.2)) m.eol = r.pick([" \r\n", "\t\r\n", "\n", "\r"]);
  },
  connection: (s, r) => {
    const m = target(s, r);
    const i = idx(m, "connection");
    const value = r.pick(CONNECTION);
    if (i >= 0) m.fields[i]!.value = value;
    else insertField(m, r, { name: r.pick(["Connection", "connection"]), value });
    if (r.chance(0.3)) m.version = "HTTP/1.0";
  },
  expect: (s, r) => {
    insertField(target(s, r), r, { name: "Expect", value: r.pick(EXPECT) });
  },
  "value-ws": (s, r) => {
    const m = target(s, r);
    if (m.fields.length === 0) return;
    const f = r.pick(m.fields);
    const w = r.pick(WS);
    const at = r.int(3);
    f.value = at === 0 ? w + f.value : at === 1 ? f.value + w : f.value.slice(0, 1) + w + f.value.slice(1);
  },
  "value-ctl": (s, r) => {
    const m = target(s, r);
    if (m.fields.length === 0) return;
    const f = r.pick(m.fields);
    const p = r.int(f.value.length + 1);
    f.value = f.value.slice(0, p) + r.pick(CTLS) + f.value.slice(p);
  },
  "name-odd": (s, r) => {
    insertField(target(s, r), r, { name: r.pick(["X\x80", "X Y", "X@Y", "", "X\x00", "X(Y)", "X\"", "X\xff", "X/Y", "X{Y}", "X;", "X=Y", "\x7fX"]), value: "v" });
  },
  "obs-text": (s, r) => {
    insertField(target(s, r), r, { name: "X-Text", value: r.pick(["\x80", "caf\xe9", "\xff\xfe", "a\xa0b", "\xc3\xa9"]) });
  },
  "huge-value": (s, r) => {
    insertField(target(s, r), r, { name: "X-Big", value: "v".repeat(r.pick([4000, 8000, 40000])) });
  },
  "many-fields": (s, r) => {
    const m = target(s, r);
    for (let i = 0; i < 100; i++) m.fields.push({ name: `X-F${i}`, value: String(i) });
  },
  "chunk-size": (s, r) => {
    const m = target(s, r);
    asChunked(m, r);
    if (m.body.kind === "chunked" && m.body.chunks.length > 0) {
      const c = r.pick(m.body.chunks);
      c.size = r.chance(0.3) ? (c.data.length + r.pick([-1, 1, 16])).toString(16) : r.pick(CHUNK_SIZES);
    }
  },
  "chunk-ext": (s, r) => {
    const m = target(s, r);
    asChunked(m, r);
    if (m.body.kind !== "chunked") return;
    if (m.body.chunks.length > 0 && r.chance(0.7)) r.pick(m.body.chunks).ext = r.pick(CHUNK_EXTS);
    else m.body.lastExt = r.pick(CHUNK_EXTS);
  },
  "chunk-after": (s, r) => {
    const m = target(s, r);
    asChunked(m, r);
    if (m.body.kind === "chunked" && m.body.chunks.length > 0) r.pick(m.body.chunks).after = r.pick(CHUNK_AFTER);
  },
  "last-chunk": (s, r) => {
    const m = target(s, r);
    asChunked(m, r);
    if (m.body.kind === "chunked") m.body.lastSize = r.pick(LAST_SIZES);
  },
  trailer: (s, r) => {
    const m = target(s, r);
    asChunked(m, r);
    if (m.body.kind === "chunked") m.body.trailers.push(r.pick(TRAILERS));
  },
  "body-end": (s, r) => {
    const m = target(s, r);
    asChunked(m, r);
    if (m.body.kind === "chunked") m.body.end = r.pick(BODY_END);
  },
  "smuggle-next": (s, r) => {
    // A second request hidden where one parser sees body and another sees a new message.
    const m = target(s, r);
    const hidden = `GET /admin HTTP/1.1\r\nHost: svc\r\n\r\n`;
    if (m.body.kind === "raw") m.body.data += hidden;
    else m.body.end += hidden;
  },
  "leading-junk": (s, r) => {
    s.prefix = r.pick(["\r\n", "\n", "\r", "\r\n\r\n", " ", "\n\n", "\r\r\n", "\t"]);
  },
  "trailing-junk": (s, r) => {
    s.suffix = r.pick(["\r\n", "\n", "\r", "X", " ", "\r\n\r\n", "GET", "\x00"]);
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Byte damage on the serialized stream, biased towards the bytes parsers disagree about.

const INTERESTING = ["\r", "\n", "\x00", " ", "\t", ":", ",", ";", '"', "=", "\x0b", "\x0c", "\xa0", "\x7f", "\xff", "\x80", "0", "a", "A", "-", "/", "\r\n", "\r\n "];

function damage(text: string, r: Rng): [string, string] {
  const op = r.int(6);
  const p = r.int(text.length + 1);
  const byte = (): string => (r.chance(0.7) ? r.pick(INTERESTING) : String.fromCharCode(r.int(256)));
  switch (op) {
    case 0:
      return [text.slice(0, p) + byte() + text.slice(p + 1), "flip"];
    case 1:
      return [text.slice(0, p) + byte() + text.slice(p), "insert"];
    case 2:
      return [text.slice(0, p) + text.slice(p + 1 + r.int(3)), "delete"];
    case 3: {
      // A CRLF somewhere becomes a bare LF or bare CR: the classic line-ending desync.
      const crlfs: number[] = [];
      for (let i = text.indexOf("\r\n"); i >= 0; i = text.indexOf("\r\n", i + 2)) crlfs.push(i);
      if (crlfs.length === 0) return [text, "bare-eol(none)"];
      const at = r.pick(crlfs);
      return [text.slice(0, at) + r.pick(["\n", "\r", "\n\r", "\r\r\n"]) + text.slice(at + 2), "bare-eol"];
    }
    case 4: {
      const len = 1 + r.int(12);
      return [text.slice(0, p) + text.slice(p, p + len) + text.slice(p), "dup"];
    }
    default:
      return [text.slice(0, p), "truncate"];
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Fixed classics: named so the report reads like the literature; they run before the generated cases.

const CLASSICS: Array<[string, string]> = [
  ["CL.TE", "POST / HTTP/1.1\r\nHost: svc\r\nContent-Length: 13\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nSMUGGLED"],
  ["TE.CL", "POST / HTTP/1.1\r\nHost: svc\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n"],
  ["TE.TE obfuscated", "POST / HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\nTransfer-encoding: x\r\n\r\n0\r\n\r\n"],
  ["CL.CL", "POST / HTTP/1.1\r\nHost: svc\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\nhello"],
  ["CL list", "POST / HTTP/1.1\r\nHost: svc\r\nContent-Length: 5, 5\r\n\r\nhello"],
  ["TE space before colon", "POST / HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n"],
  ["TE obs-fold", "POST / HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n"],
  ["TE chunked, identity", "POST / HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n"],
  ["TE xchunked", "POST / HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"],
  ["TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"],
  ["bare LF head", "GET / HTTP/1.1\nHost: svc\n\n"],
  ["bare CR in value", "GET / HTTP/1.1\r\nHost: svc\r\nX: a\rb\r\n\r\n"],
  ["NUL in value", "GET / HTTP/1.1\r\nHost: svc\r\nX: a\x00b\r\n\r\n"],
  ["VT in value", "GET / HTTP/1.1\r\nHost: svc\r\nX: \x0ba\r\n\r\n"],
  ["NBSP around value", "GET / HTTP/1.1\r\nHost: svc\r\nX: \xa0a\xa0\r\n\r\n"],
  ["two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"],
  ["missing Host", "GET / HTTP/1.1\r\nUser-Agent: x\r\n\r\n"],
  ["lowercase method", "get / HTTP/1.1\r\nHost: svc\r\n\r\n"],
  ["unknown method", "FOO / HTTP/1.1\r\nHost: svc\r\n\r\n"],
  ["HTTP/1.2", "GET / HTTP/1.2\r\nHost: svc\r\n\r\n"],
  ["HTTP/2.0", "GET / HTTP/2.0\r\nHost: svc\r\n\r\n"],
  ["absolute-form same host", "GET http://svc/x HTTP/1.1\r\nHost: svc\r\n\r\n"],
  ["absolute-form other host", "GET http://evil/x HTTP/1.1\r\nHost: svc\r\n\r\n"],
  ["chunk size overflow", "POST / HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\n"],
  ["chunk size 0x", "POST / HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n"],
  ["chunk data without CRLF", "POST / HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello0\r\n\r\n"],
  ["chunk LF only", "POST / HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n"],
  ["trailer control char", "POST / HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: \x01\r\n\r\n"],
  ["huge CL", "POST / HTTP/1.1\r\nHost: svc\r\nContent-Length: 99999999999999999999\r\n\r\n"],
  ["leading bare LF", "\nGET / HTTP/1.1\r\nHost: svc\r\n\r\n"],
  ["TE with leading VT", "POST / HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\n"],
  ["TE with trailing NBSP", "POST / HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\xa0\r\n\r\n0\r\n\r\n"],
  ["TE with trailing HTAB", "POST / HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\t\r\n\r\n0\r\n\r\n"],
  ["CL with trailing FF", "POST / HTTP/1.1\r\nHost: svc\r\nContent-Length: 5\x0c\r\n\r\nhello"],
  ["CL with trailing HTAB", "POST / HTTP/1.1\r\nHost: svc\r\nContent-Length: 5\t\r\n\r\nhello"],
  ["Host with trailing NBSP", "GET / HTTP/1.1\r\nHost: svc\xa0\r\n\r\n"],
  ["Content-Length as trailer", "POST / HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nContent-Length: 5\r\n\r\n"],
  ["space inside chunk extension", "POST / HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\n\r\n5;a b\r\nhello\r\n0\r\n\r\n"],
  ["keep-alive with HTAB on 1.0", "GET / HTTP/1.0\r\nConnection: keep-alive\t\r\n\r\nGET /two HTTP/1.0\r\n\r\n"],
  ["pipeline after CL", "POST / HTTP/1.1\r\nHost: svc\r\nContent-Length: 5\r\n\r\nhelloGET /two HTTP/1.1\r\nHost: svc\r\n\r\n"],
];

/** `count` cases (classics first), identical for the same seed on every run. */
export function generateCases(seed: number, count: number): FuzzCase[] {
  const r = new Rng(seed);
  const seeds = Object.entries(SEEDS);
  const mutations = Object.entries(MUTATIONS);
  const out: FuzzCase[] = CLASSICS.slice(0, count).map(([label, text], id) => ({ id, label: `classic: ${label}`, text }));
  while (out.length < count) {
    const [seedName, make] = r.pick(seeds);
    const s = make(r);
    const applied: string[] = [];
    const roll = r.int(100);
    // ~8% untouched seeds, the rest 1-3 structured mutations, ~30% then also byte damage.
    const n = roll < 8 ? 0 : 1 + r.int(3);
    for (let i = 0; i < n; i++) {
      const [name, mutate] = r.pick(mutations);
      mutate(s, r);
      applied.push(name);
    }
    let text = serialize(s);
    if (roll >= 70) {
      const k = 1 + r.int(2);
      for (let i = 0; i < k; i++) {
        const [t, what] = damage(text, r);
        text = t;
        applied.push(what);
      }
    }
    out.push({ id: out.length, label: `${seedName}${applied.length ? ` + ${applied.join(" + ")}` : ""}`, text });
  }
  return out;
}

/**
 * One damaged variant of `text`, drawn from `rnd`: 1–3 edits, each inserting one of `damage`, deleting 1–3 chars, or
 * upper-casing one. The response-head differential tests (one-pass reader, byte judge) share it.
 */
export function damageText(text: string, rnd: () => number, damage: readonly string[]): string {
  const int = (n: number): number => Math.floor(rnd() * n);
  for (let k = 1 + int(3); k > 0; k--) {
    const at = int(text.length + 1);
    const op = int(3);
    if (op === 0) text = text.slice(0, at) + damage[int(damage.length)] + text.slice(at);
    else if (op === 1) text = text.slice(0, at) + text.slice(at + 1 + int(3));
    else text = text.slice(0, at) + text.slice(at, at + 1).toUpperCase() + text.slice(at + 1);
  }
  return text;
}
