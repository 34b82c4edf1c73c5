// The L4 floor pair's outbound half: each plaintext connection from the app gets its own mTLS connection to the
// inbound, whose SPIFFE id is checked once at the handshake; then bytes pass both ways, never parsed.
import type { Socket } from "bun";
import { readFileSync } from "node:fs";
import { arg, hostPort, isExpectedPeer, openLink, Out, ready } from "./wire.ts";

type Down = { out: Out; up: Up };
type Up = { sock: Socket<Up> | undefined; out: Out | undefined; early: Buffer[]; down: Socket<Down> };

const upstream = hostPort(arg("--upstream"));
const expected = `URI:${arg("--expect")}`;
const tls = { cert: readFileSync(arg("--cert"), "utf8"), key: readFileSync(arg("--key"), "utf8"), ca: readFileSync(arg("--ca"), "utf8"), rejectUnauthorized: false };

function connect(up: Up): void {
  void Bun.connect<Up>({
    ...upstream,
    tls,
    data: up,
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
      data: (_s, d) => up.down.data.out.write(d),
      drain: () => up.out?.drain(),
      close: () => void up.down.end(),
      connectError: () => void up.down.end(),
    },
  });
}

const server = Bun.listen<Down>({
  hostname: "127.0.0.1",
  port: Number(arg("--port")),
  socket: {
    binaryType: "buffer",
    open(s) {
      s.setNoDelay(true);
      const up: Up = { sock: undefined, out: undefined, early: [], down: s };
      s.data = { out: new Out(s as Socket<unknown>), up };
      connect(up);
    },
    data(s, d) {
      const up = s.data.up;
      if (up.out === undefined) up.early.push(Buffer.from(d)); // the read buffer is reused after the callback
      else up.out.write(d);
    },
    drain: (s) => s.data.out.drain(),
    close: (s) => void s.data.up.sock?.end(),
  },
});

ready("floor-l4-outbound", server.port, () => server.stop(true));
