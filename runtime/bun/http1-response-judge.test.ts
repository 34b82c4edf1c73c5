// The byte judge against the string path: whatever head it calls clean, the parser reads as the same status and
// length, and downstreamHead would pass as received with the same text; on ordinary and on 20,000 damaged heads.
import { describe, expect, test } from "bun:test";
import { judgeCleanResponse } from "./http1-response-judge.ts";
import { isHeadError, parseResponseHead } from "./http1-head.ts";
import { downstreamHead } from "./relay-response-head.ts";
import { damageText, mulberry32 } from "../../test/support/http1-fuzz-cases.ts";

const ID = "3f1c2a9e-5b7d-4c1e-9a2b-8d7e6f5a4b3c";
const GET11 = { method: "GET", version: "1.1" };

const judge = (text: string, id = ID) => judgeCleanResponse(Buffer.from(text, "latin1"), text.length, id);

/** What the string path makes of `text` for a kept-alive HTTP/1.1 GET with body bytes at hand. */
function stringPath(text: string, id = ID) {
  const head = parseResponseHead(text, "GET");
  if (isHeadError(head)) return undefined;
  return { head, down: downstreamHead(head, GET11, true, id, undefined, true) };
}

const CLEAN = [
  "HTTP/1.1 200 OK\r\ncontent-type: application/json;charset=utf-8\r\nDate: Fri, 27 Nov 2026 21:25:16 GMT\r\nContent-Length: 11",
  "HTTP/1.1 404 Not Found\r\ncontent-length: 9",
  "HTTP/1.1 500\r\nContent-Length: 2\r\nX-App: a\tb",
  `HTTP/1.1 201 Created\r\nlocation: /x\r\nX-Request-Id: ${ID}\r\ncontent-length: 5`,
  "HTTP/1.1 200 OK\r\nset-cookie: a=b\r\nx-obs: caf\xe9\r\ncontent-length:7",
];

const NOT_CLEAN = [
  "HTTP/1.0 200 OK\r\ncontent-length: 2", // the caller's keep-alive would need a rewrite
  "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked",
  "HTTP/1.1 200 OK\r\ncontent-length: 0", // no body: "none", not "length"
  "HTTP/1.1 204 No Content\r\ncontent-length: 2",
  "HTTP/1.1 304 Not Modified\r\ncontent-length: 2",
  "HTTP/1.1 101 Switching Protocols\r\ncontent-length: 2",
  "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2",
  "HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5\r\ncontent-length: 2",
  "HTTP/1.1 200 OK\r\nProxy-Authenticate: x\r\ncontent-length: 2",
  "HTTP/1.1 200 OK\r\nx-mesh-error: overflow\r\ncontent-length: 2",
  "HTTP/1.1 200 OK\r\nx-request-id: forged\r\ncontent-length: 2",
  `HTTP/1.1 200 OK\r\nx-request-id: ${ID}\r\nx-request-id: ${ID}\r\ncontent-length: 2`,
  "HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 2",
  "HTTP/1.1 200 OK\r\ncontent-length: 2 ",
  "HTTP/1.1 200 OK\r\ncontent-length: +2",
  "HTTP/1.1 200 OK\r\ncontent-length : 2",
  "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n folded: line",
  "HTTP/1.1 200 OK\r\ncontent-length: 2\rx: y",
  "HTTP/1.1 200 OK\nContent-Length: 2",
  "HTTP/1.1 200 OK\r\nx-a: \0\r\ncontent-length: 2",
  "HTTP/1.1 200",
];

describe("judgeCleanResponse", () => {
  test("ordinary clean answers are judged clean, with what the string path reads from them", () => {
    for (const text of CLEAN) {
      const c = judge(text);
      expect(c).toBeDefined();
      const s = stringPath(text)!;
      expect(s.down.asReceived).toBe(true);
      expect(c).toEqual({ status: s.head.status, length: s.down.length, hasId: s.down.text === "\r\n\r\n" });
    }
  });

  test("framing, hop-by-hop fields, the mesh's own fields and anything unusual go to the parser", () => {
    for (const text of NOT_CLEAN) expect({ text, judged: judge(text) }).toEqual({ text, judged: undefined });
  });

  test("agrees with the string path on 20000 damaged heads: clean for it means clean, with the same facts, for both", () => {
    const rnd = mulberry32(0x5eed_1e55);
    const int = (n: number): number => Math.floor(rnd() * n);
    const damage = ["\r", "\n", "\r\n", "\t", " ", ":", "\0", "\x7f", "\xa0", "\xff", "A", "0", "Content-Length: 4\r\n", "Transfer-Encoding: chunked\r\n", "Connection: close\r\n", `x-request-id: ${ID}\r\n`, "Proxy-X: 1\r\n"];
    let clean = 0;
    for (let n = 0; n < 20000; n++) {
      const text = damageText(CLEAN[int(CLEAN.length)]!, rnd, damage);
      if (text.includes("\r\n\r\n")) continue; // not one head any more
      const c = judge(text);
      if (c === undefined) continue;
      clean++;
      const s = stringPath(text);
      if (s === undefined || !s.down.asReceived) throw new Error(`judged clean, but not by the string path: ${JSON.stringify(text)}`);
      expect(c).toEqual({ status: s.head.status, length: s.down.length, hasId: s.down.text === "\r\n\r\n" });
      expect(s.down.cause).toBeUndefined();
      expect(s.head.keepAlive).toBe(true);
    }
    expect(clean).toBeGreaterThan(2000);
  });

  test("the id must be ours byte for byte (case and length included)", () => {
    const text = `HTTP/1.1 200 OK\r\nx-request-id: ${ID.toUpperCase()}\r\ncontent-length: 2`;
    expect(judge(text)).toBeUndefined();
    expect(judge(text, ID.toUpperCase())).toEqual({ status: 200, length: 2, hasId: true });
    expect(judge(`HTTP/1.1 200 OK\r\nx-request-id: ${ID}x\r\ncontent-length: 2`)).toBeUndefined();
  });
});
