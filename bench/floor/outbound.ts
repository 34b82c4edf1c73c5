// The L7 floor pair's outbound half: plaintext listener for the app, pooled mTLS connections to the inbound with the
// server's SPIFFE id checked once per connection, one field inserted per request, the response relayed as it came.
import type { Socket } from "bun";
import { readFileSync } from "node:fs";
import { arg, Framer, hostPort, isExpectedPeer, openLink, Out, ready, withField } from "./wire.ts";

type Down = { out: Out; req: Framer; up: Up | undefined };
type Up = { sock: Socket<UpData> | undefined; out: Out | undefined; early: Buffer[]; res: Framer; down: Socket<Down> | undefined };
type UpData = { up: Up };

const upstream = hostPort(arg("--upstream"));
const expected = `URI:${arg("--expect")}`;
const tls = { cert: readFileSync(arg("--cert"), "utf8"), key: readFileSync(arg("--key"), "utf8"), ca: readFileSync(arg("--ca"), "utf8"), rejectUnauthorized: false };
const idle: Up[] = [];
let seq = 0;

function connect(): Up {
  const up: Up = { sock: undefined, out: undefined, early: [], res: new Framer(), down: undefined };
  void Bun.connect<UpData>({
    ...upstream,
    tls,
    data: { up },
    socket: {
      binaryType: "buffer",
      open(s) {
        s.setNoDelay(true);
        up.sock = s;
      },
      handshake(s, _ok, err) {
        if (!isExpectedPeer(s as Socket<unknown>, err, expected)) return void s.end();
        openLink(up, s as Socket<unknown>);
      },
      data(_s, d) {
        const res = up.res.take(d);
        const down = up.down;
        if (res === undefined || down === undefined) return;
        up.down = undefined;
        down.data.up = undefined;
        idle.push(up);
        down.data.out.write(res);
      },
      drain: () => up.out?.drain(),
      close() {
        const i = idle.indexOf(up);
        if (i >= 0) idle.splice(i, 1);
        up.sock = undefined;
        up.down?.end();
      },
      connectError() {
        up.down?.end();
      },
    },
  });
  return up;
}

const server = Bun.listen<Down>({
  hostname: "127.0.0.1",
  port: Number(arg("--port")),
  socket: {
    binaryType: "buffer",
    open(s) {
      s.setNoDelay(true);
      s.data = { out: new Out(s as Socket<unknown>), req: new Framer(), up: undefined };
    },
    data(s, d) {
      const msg = s.data.req.take(d);
      if (msg === undefined) return;
      let up = idle.pop();
      while (up !== undefined && up.sock === undefined) up = idle.pop();
      up ??= connect();
      up.down = s;
      s.data.up = up;
      const out = withField(msg, Buffer.from(`x-request-id: ${++seq}\r\n`, "latin1"));
      if (up.out === undefined) up.early.push(out);
      else up.out.write(out);
    },
    drain: (s) => s.data.out.drain(),
    close(s) {
      // A request in flight: its upstream connection can't be reused (the response would have no taker), and must
      // not be taken again while it closes.
      const up = s.data.up;
      if (up === undefined) return;
      up.down = undefined;
      up.sock?.end();
      up.sock = undefined;
    },
  },
});

ready("floor-outbound", server.port, () => server.stop(true));
