// Reference verdicts for the HTTP/1.1 differential test: feeds raw request bytes to Node's own llhttp, as node:http does.
// Run as a child `node` process (Bun has its own HTTP parser); reads one JSON job on stdin, writes one JSON answer on stdout.
//
// Why the parser binding and not only a TCP server: it is the exact llhttp instance node:http builds for each
// connection (same initialize() arguments, strict mode), but synchronous, so message boundaries and bodies come out
// exactly and deterministically. The few request checks node:http makes above llhttp (Host on HTTP/1.1, Expect,
// CONNECT and PRI with no listener) are reproduced in onHeadersComplete below. With `calibrate`, every input is also
// sent over TCP to a real http.createServer and the heads it emits are checked against this emulation, so a drift
// between the two shows up as a harness failure instead of a silent change of reference.
//
// Job:    { "inputs": ["<base64>", ...], "calibrate": true|false }
// Answer: { "results": [Outcome, ...], "calibration": { "checked": n, "mismatches": [...] } | null,
//           "methods": http.METHODS (the request methods llhttp knows), "llhttp": "9.x", "node": "v20.x" }
// Outcome = { msgs: Msg[], end: { kind, code?, reason? } } where
//   Msg = { method, target, version, headers: [name, value][] (as received), keepAlive, complete, body: base64 | null }
//   end.kind = "clean" (all input consumed at a message boundary), "incomplete" (EOF inside a message),
//              "error" (llhttp error: code is the HPE_* name), "refused" (node:http refuses a parsed head: reason),
//              "closed" (message said Connection: close; later bytes are never read), "upgrade" (parser stopped).

import { createRequire } from "node:module";
import http from "node:http";
import net from "node:net";

const require = createRequire(import.meta.url);
const { HTTPParser } = require("_http_common");
// The method index llhttp reports maps through this table (node:http does the same, internally).
process.noDeprecation = true;
const { allMethods } = process.binding("http_parser");

const { kOnHeaders, kOnHeadersComplete, kOnBody, kOnMessageComplete, kLenientNone } = HTTPParser;
// node:http: `continueExpression` in _http_common.js.
const CONTINUE_RE = /(?:^|\W)100-continue(?:$|\W)/i;

function pairs(flat) {
  const out = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
  return out;
}

/** The verdict of node:http's parser on one connection that carries exactly `buf` and then EOF. */
export function parse(buf) {
  const p = new HTTPParser();
  const msgs = [];
  let cur = null;
  let end = null;
  let partHeaders = [];
  let partUrl = "";
  p[kOnHeaders] = (headers, url) => {
    partHeaders.push(...headers);
    partUrl += url;
  };
  p[kOnHeadersComplete] = (major, minor, headers, method, url, _sc, _sm, upgrade, keepAlive) => {
    if (headers === undefined) headers = partHeaders;
    if (url === undefined) url = partUrl;
    partHeaders = [];
    partUrl = "";
    const name = allMethods[method];
    const msg = { method: name, target: url, version: `${major}.${minor}`, headers: pairs(headers), keepAlive, complete: false, body: [] };
    if (end) return 0;
    // _http_server.js, onParserExecuteCommon / parserOnIncoming, with no 'connect', 'upgrade' or 'checkExpectation' listeners.
    if (name === "CONNECT") {
      end = { kind: "refused", reason: "CONNECT without a listener: socket destroyed" };
      return 2;
    }
    if (name === "PRI") {
      end = { kind: "refused", reason: "PRI: socket destroyed" };
      return 0;
    }
    const get = (n) => msg.headers.find(([k]) => k.toLowerCase() === n)?.[1];
    if (major === 1 && minor === 1 && get("host") === undefined) {
      end = { kind: "refused", reason: "missing Host on HTTP/1.1: 400" };
      return 0;
    }
    if (major === 1 && minor === 1 && get("expect") !== undefined && !CONTINUE_RE.test(get("expect"))) {
      end = { kind: "refused", reason: "unsupported Expect: 417" };
      return 0;
    }
    cur = msg;
    msgs.push(msg);
    return 0;
  };
  p[kOnBody] = (b) => {
    if (cur && !end) cur.body.push(Buffer.from(b));
  };
  p[kOnMessageComplete] = () => {
    partHeaders = [];
    partUrl = "";
    if (!cur || end) return;
    cur.complete = true;
    // llhttp refuses any byte after a Connection: close message; node:http never reads them anyway.
    if (!cur.keepAlive) end = { kind: "closed" };
    cur = null;
  };
  // Same arguments as _http_server.js: default header limit (0 = --max-http-header-size), strict mode.
  p.initialize(HTTPParser.REQUEST, {}, 0, kLenientNone);
  const ret = p.execute(buf);
  if (ret instanceof Error) {
    if (!end) end = { kind: "error", code: ret.code, reason: ret.reason };
  } else if (ret < buf.length) {
    if (!end) end = { kind: "upgrade", reason: `parser stopped after ${ret} of ${buf.length} bytes` };
  } else {
    const fin = p.finish();
    if (!end) end = fin instanceof Error ? { kind: "incomplete", code: fin.code } : { kind: "clean" };
  }
  p.close();
  return {
    msgs: msgs.map((m) => ({ ...m, body: m.complete ? Buffer.concat(m.body).toString("base64") : null })),
    end,
  };
}

/**
 * Sends each input over a fresh TCP connection to a real http.Server and records the heads it hands to 'request'
 * (and the first clientError), then compares them with parse(): heads up to the first refusal must be identical.
 */
async function calibrate(inputs, results) {
  // Keyed by the client's port; either side may see the connection first, so records are made on demand.
  const records = new Map();
  const record = (port) => {
    let r = records.get(port);
    if (!r) records.set(port, (r = { heads: [], error: undefined, closed: false, onClose: () => {} }));
    return r;
  };
  const server = http.createServer();
  server.on("connection", (sock) => {
    const rec = record(sock.remotePort);
    sock.on("close", () => {
      rec.closed = true;
      rec.onClose();
    });
  });
  server.on("request", (req, res) => {
    record(req.socket.remotePort).heads.push({ method: req.method, target: req.url, version: req.httpVersion, headers: pairs(req.rawHeaders), keepAlive: res.shouldKeepAlive });
    req.resume();
    res.end();
  });
  server.on("clientError", (err, sock) => {
    const rec = record(sock.remotePort);
    rec.error ??= err.code;
    sock.destroy();
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address();

  /** Resolves once the server has closed its side (it always does: the client half-closes after writing). */
  const one = (buf) =>
    new Promise((resolve) => {
      const c = net.connect({ port, host: "127.0.0.1" });
      let local;
      const done = (problem) => {
        clearTimeout(timer);
        c.destroy();
        const rec = local === undefined ? undefined : records.get(local);
        if (local !== undefined) records.delete(local);
        resolve({ rec: rec ?? { heads: [], error: undefined }, problem });
      };
      const timer = setTimeout(() => done("server kept the connection open"), 2000);
      c.on("error", (e) => {
        if (local === undefined) done(`client could not connect: ${e.code}`);
      });
      c.resume();
      c.on("connect", () => {
        local = c.localPort;
        const rec = record(local);
        rec.onClose = () => done(undefined);
        if (rec.closed) return done(undefined);
        c.end(buf);
      });
    });

  const mismatches = [];
  let next = 0;
  // A bound on the whole calibration (normally well under a second), so a misbehaving loopback cannot stall the test.
  const deadline = performance.now() + 8000;
  const worker = async () => {
    while (next < inputs.length) {
      if (performance.now() > deadline) {
        mismatches.push({ index: next, problem: `calibration deadline passed with ${inputs.length - next} inputs left` });
        next = inputs.length;
        break;
      }
      const i = next++;
      const { rec, problem } = await one(inputs[i]);
      const expected = results[i].msgs.map(({ method, target, version, headers, keepAlive }) => ({ method, target, version, headers, keepAlive }));
      const end = results[i].end;
      // node:http keeps parsing past a refusal (the 400/417 goes out later); the emulation stops there: compare that prefix.
      const got = end.kind === "refused" ? rec.heads.slice(0, expected.length) : rec.heads;
      // The parse error node:http reports must be the one the emulation saw. After a message that closes the connection
      // node:http may still parse (and refuse) what follows; EOF inside a message goes unreported when the server
      // already closed after answering an HTTP/1.0 head.
      const allowed = {
        error: [end.code],
        incomplete: ["HPE_INVALID_EOF_STATE", undefined],
        closed: ["HPE_CLOSED_CONNECTION", undefined],
        clean: [undefined],
      }[end.kind];
      const errorAgrees = allowed === undefined || allowed.includes(rec.error);
      if (problem || JSON.stringify(got) !== JSON.stringify(expected) || !errorAgrees) {
        mismatches.push({ index: i, problem: problem ?? (errorAgrees ? "heads differ" : "errors differ"), expected, got, error: rec.error, emulatedEnd: end });
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  await new Promise((r) => server.close(r));
  return { checked: inputs.length, mismatches };
}

async function main() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  const job = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  const inputs = job.inputs.map((b) => Buffer.from(b, "base64"));
  const results = inputs.map(parse);
  const calibration = job.calibrate ? await calibrate(inputs, results) : null;
  process.stdout.write(JSON.stringify({ results, calibration, methods: http.METHODS, llhttp: process.versions.llhttp, node: process.version }));
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
