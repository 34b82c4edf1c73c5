// Wire-level tests of the plaintext HTTP/1.1 client (the inbound's hop to its app) against scripted raw servers:
// exact request heads, every response framing, connection reuse, and apps that close or stall.

import { afterEach, describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import { createPlainClient, type PlainClient } from "./http1-client.ts";
import { UpstreamError } from "../../shared/types.ts";

type Script = (req: string, sock: Socket<unknown>, n: number) => void;
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A raw server that hands each complete request head (+ body bytes seen so far) to `script`. */
function rawServer(script: Script): { port: number; received: string[]; connections: () => number } {
  const received: string[] = [];
  let conns = 0;
  const l = Bun.listen<{ buf: string }>({
    hostname: "127.0.0.1",
    port: 0,
    data: { buf: "" },
    socket: {
      open(s) {
        conns++;
        s.data = { buf: "" };
      },
      data(s, d) {
        s.data.buf += Buffer.from(d).toString("latin1");
        const end = s.data.buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const cl = /content-length: (\d+)/i.exec(s.data.buf.slice(0, end));
        const chunked = /transfer-encoding: chunked/i.test(s.data.buf.slice(0, end));
        if (cl !== null && s.data.buf.length < end + 4 + Number(cl[1])) return;
        if (chunked && !s.data.buf.endsWith("0\r\n\r\n")) return;
        const req = s.data.buf;
        s.data.buf = "";
        received.push(req);
        script(req, s as Socket<unknown>, received.length);
      },
    },
  });
  cleanups.push(() => l.stop(true));
  return { port: l.port, received, connections: () => conns };
}

function client(): PlainClient {
  const c = createPlainClient();
  cleanups.push(() => c.close());
  return c;
}
const sig = () => new AbortController().signal;
const get = (path: string, headers: Record<string, string> = { host: "app" }) => new Request(`http://app${path}`, { headers });

describe("plain HTTP/1.1 client", () => {
  test("sends exactly the caller's headers (no User-Agent, no Accept) and reuses the connection", async () => {
    const srv = rawServer((_r, s) => s.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"));
    const c = client();
    for (let i = 0; i < 3; i++) {
      const res = await c.send({ address: "127.0.0.1", port: srv.port }, get("/a?b=1", { host: "app", "x-one": "1" }), { signal: sig() });
      expect(await res.text()).toBe("ok");
    }
    expect(srv.received[0]).toBe("GET /a?b=1 HTTP/1.1\r\nhost: app\r\nx-one: 1\r\n\r\n");
    expect(srv.connections()).toBe(1);
  });

  test("chunked response bodies are decoded, trailers dropped", async () => {
    const srv = rawServer((_r, s) => s.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nx-t: 1\r\n\r\n"));
    const res = await client().send({ address: "127.0.0.1", port: srv.port }, get("/"), { signal: sig() });
    expect(res.headers.get("transfer-encoding")).toBeNull();
    expect(await res.text()).toBe("abcde");
  });

  test("a body delimited by close is read to the end, and that connection is not reused", async () => {
    const srv = rawServer((_r, s) => {
      s.write("HTTP/1.1 200 OK\r\n\r\nuntil-close");
      s.end();
    });
    const c = client();
    const res = await c.send({ address: "127.0.0.1", port: srv.port }, get("/"), { signal: sig() });
    expect(await res.text()).toBe("until-close");
    const again = await c.send({ address: "127.0.0.1", port: srv.port }, get("/"), { signal: sig() });
    expect(await again.text()).toBe("until-close");
    expect(srv.connections()).toBe(2);
  });

  test("100 Continue is skipped; request bodies go out with their length or chunked", async () => {
    const srv = rawServer((_r, s) => s.write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n"));
    const c = client();
    const withLength = new Request("http://app/up", { method: "POST", headers: { host: "app", "content-length": "5" }, body: "hello" });
    expect((await c.send({ address: "127.0.0.1", port: srv.port }, withLength, { signal: sig() })).status).toBe(201);
    expect(srv.received[0]).toContain("content-length: 5\r\n");
    expect(srv.received[0]!.endsWith("\r\n\r\nhello")).toBe(true);
    const stream = new ReadableStream({ start: (ctl) => (ctl.enqueue(new TextEncoder().encode("abc")), ctl.close()) });
    const chunked = new Request("http://app/up", { method: "POST", headers: { host: "app" }, body: stream, duplex: "half" } as RequestInit);
    expect((await c.send({ address: "127.0.0.1", port: srv.port }, chunked, { signal: sig() })).status).toBe(201);
    expect(srv.received[1]!.endsWith("transfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")).toBe(true);
  });

  test("an app that closes mid-body fails the body stream (never a silent truncation)", async () => {
    const srv = rawServer((_r, s) => {
      s.write("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial");
      s.end();
    });
    const res = await client().send({ address: "127.0.0.1", port: srv.port }, get("/"), { signal: sig() });
    expect(res.status).toBe(200);
    expect(res.text()).rejects.toThrow();
  });

  test("an app that closes before answering is a reset; a refused port a connect-failure", async () => {
    const srv = rawServer((_r, s) => s.end());
    const c = client();
    const e1 = await c.send({ address: "127.0.0.1", port: srv.port }, get("/"), { signal: sig() }).catch((e) => e);
    expect(e1).toBeInstanceOf(UpstreamError);
    expect((e1 as UpstreamError).kind).toBe("reset");
    const dead = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = dead.port;
    dead.stop(true);
    const e2 = await c.send({ address: "127.0.0.1", port }, get("/"), { signal: sig() }).catch((e) => e);
    expect((e2 as UpstreamError).kind).toBe("connect-failure");
  });

  test("a pooled connection the app closed meanwhile is replaced for a body-less request", async () => {
    const srv = rawServer((_r, s, n) => {
      s.write("HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\n" + n);
      if (n === 1) setTimeout(() => s.end(), 5);
    });
    const c = client();
    expect(await (await c.send({ address: "127.0.0.1", port: srv.port }, get("/"), { signal: sig() })).text()).toBe("1");
    await Bun.sleep(50);
    expect(await (await c.send({ address: "127.0.0.1", port: srv.port }, get("/"), { signal: sig() })).text()).toBe("2");
  });

  test("an abort while the app is slow ends the request with a timeout error", async () => {
    const srv = rawServer(() => {});
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error("deadline")), 100);
    const e = await client().send({ address: "127.0.0.1", port: srv.port }, get("/slow"), { signal: ac.signal }).catch((x) => x);
    expect((e as UpstreamError).kind).toBe("timeout");
  });

  test("a response with bytes after its declared body is refused", async () => {
    const srv = rawServer((_r, s) => s.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokEXTRA"));
    const res = await client().send({ address: "127.0.0.1", port: srv.port }, get("/"), { signal: sig() }).catch((e) => e);
    // Either the response is refused outright or its connection is dropped: the extra bytes never become a response.
    if (res instanceof Response) expect(await res.text()).toBe("ok");
    else expect((res as UpstreamError).kind).toBe("reset");
  });
});
