// The L7 floor pair's inbound half: mTLS listener (client certificate required), the caller's SPIFFE id read once
// per connection, then per request one field inserted after the request line and the message sent to the app.
import type { Socket } from "bun";
import { readFileSync } from "node:fs";
import { arg, Framer, hostPort, openLink, Out, ready, withField } from "./wire.ts";

type Mesh = { out: Out; id: Buffer | undefined; req: Framer; app: App | undefined };
type App = { sock: Socket<AppData> | undefined; out: Out | undefined; early: Buffer[]; res: Framer };
type AppData = { mesh: Socket<Mesh> };

const app = hostPort(arg("--app"));
const SAN_URI = /URI:(spiffe:\/\/[^,\s]+)/;

function toApp(mesh: Socket<Mesh>, msg: Buffer): void {
  let a = mesh.data.app;
  if (a === undefined) {
    a = mesh.data.app = { sock: undefined, out: undefined, early: [], res: new Framer() };
    const link = a;
    void Bun.connect<AppData>({
      ...app,
      data: { mesh },
      socket: {
        binaryType: "buffer",
        open(s) {
          s.setNoDelay(true);
          link.sock = s;
          openLink(link, s as Socket<unknown>);
        },
        data(s, d) {
          const res = link.res.take(d);
          if (res !== undefined) s.data.mesh.data.out.write(res);
        },
        drain: () => link.out?.drain(),
        close(s) {
          s.data.mesh.end();
        },
        connectError(s) {
          s.data.mesh.end();
        },
      },
    });
  }
  if (a.out === undefined) a.early.push(Buffer.from(msg));
  else a.out.write(msg);
}

const server = Bun.listen<Mesh>({
  hostname: "127.0.0.1",
  port: Number(arg("--port")),
  tls: { cert: readFileSync(arg("--cert"), "utf8"), key: readFileSync(arg("--key"), "utf8"), ca: readFileSync(arg("--ca"), "utf8"), requestCert: true, rejectUnauthorized: true },
  socket: {
    binaryType: "buffer",
    open(s) {
      s.setNoDelay(true);
      s.data = { out: new Out(s as Socket<unknown>), id: undefined, req: new Framer(), app: undefined };
    },
    handshake(s, ok) {
      const san = ok ? s.getPeerX509Certificate()?.subjectAltName : undefined;
      const id = san === undefined ? null : SAN_URI.exec(san);
      if (id === null) return void s.end();
      s.data.id = Buffer.from(`x-client-id: ${id[1]}\r\n`, "latin1");
    },
    data(s, d) {
      if (s.data.id === undefined) return void s.end();
      const msg = s.data.req.take(d);
      if (msg !== undefined) toApp(s, withField(msg, s.data.id));
    },
    drain: (s) => s.data.out.drain(),
    close(s) {
      s.data.app?.sock?.end();
    },
  },
});

ready("floor-inbound", server.port, () => server.stop(true));
