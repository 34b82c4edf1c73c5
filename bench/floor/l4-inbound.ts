// The L4 floor pair's inbound half: mTLS listener (client certificate required), the caller's SPIFFE id checked once
// per connection, then one plain connection to the app per mesh connection and bytes both ways, never parsed.
import type { Socket } from "bun";
import { readFileSync } from "node:fs";
import { arg, hostPort, openLink, Out, ready } from "./wire.ts";

type Mesh = { out: Out; app: App | undefined; early: Buffer[] | undefined };
type App = { sock: Socket<App> | undefined; out: Out | undefined; early: Buffer[]; mesh: Socket<Mesh> };

const app = hostPort(arg("--app"));
const SPIFFE_SAN = /URI:spiffe:\/\/[^,\s]+/;

function toApp(mesh: Socket<Mesh>, early: Buffer[]): App {
  const a: App = { sock: undefined, out: undefined, early, mesh };
  void Bun.connect<App>({
    ...app,
    data: a,
    socket: {
      binaryType: "buffer",
      open(s) {
        s.setNoDelay(true);
        a.sock = s;
        openLink(a, s as Socket<unknown>);
      },
      data: (_s, d) => mesh.data.out.write(d),
      drain: () => a.out?.drain(),
      close: () => void mesh.end(),
      connectError: () => void mesh.end(),
    },
  });
  return a;
}

const server = Bun.listen<Mesh>({
  hostname: "127.0.0.1",
  port: Number(arg("--port")),
  tls: { cert: readFileSync(arg("--cert"), "utf8"), key: readFileSync(arg("--key"), "utf8"), ca: readFileSync(arg("--ca"), "utf8"), requestCert: true, rejectUnauthorized: true },
  socket: {
    binaryType: "buffer",
    open(s) {
      s.setNoDelay(true);
      s.data = { out: new Out(s as Socket<unknown>), app: undefined, early: [] };
    },
    handshake(s, ok) {
      const san = ok ? s.getPeerX509Certificate()?.subjectAltName : undefined;
      if (san === undefined || !SPIFFE_SAN.test(san)) return void s.end();
      s.data.app = toApp(s, s.data.early ?? []);
      s.data.early = undefined;
    },
    data(s, d) {
      const a = s.data.app;
      // Bun may deliver the first bytes before the handshake callback: they wait for the identity check.
      if (a === undefined) s.data.early?.push(Buffer.from(d));
      else if (a.out === undefined) a.early.push(Buffer.from(d));
      else a.out.write(d);
    },
    drain: (s) => s.data.out.drain(),
    close: (s) => void s.data.app?.sock?.end(),
  },
});

ready("floor-l4-inbound", server.port, () => server.stop(true));
