// The service's side of a TCP service: a verified mesh connection in L4 mode is authorized once (by its caller), then
// carried to the app over one plain loopback connection of its own; no byte is parsed.
import type { Socket } from "bun";
import type { InboundL4, PeerIdentity } from "../ports.ts";
import type { TlsSocketData } from "./tls-accept.ts";
import { createPipeSet, pipeEvents, type PipeLink } from "./tcp-pipe.ts";

export type L4Inbound = {
  /** After the handshake and the X509-SVID check: true when the connection is taken at L4 (carried or refused). */
  accept(s: Socket<TlsSocketData>, peer: PeerIdentity): boolean;
  connections(): number;
  drain(ms: number): Promise<void>;
};

export function createL4Inbound(opts: InboundL4): L4Inbound {
  const pipes = createPipeSet();
  return {
    accept(s, peer) {
      const target = opts.route(peer);
      if (target === undefined) return false;
      const counters = opts.tally?.("inbound", target.service);
      if (!target.allowed) {
        if (counters !== undefined) counters.connections.denied++;
        s.terminate(); // bytes it sent before the verdict never reach the app
        return true;
      }
      const pipe = pipes.add(counters);
      s.data.l4 = { pipe, side: "down" };
      pipe.attach("down", s);
      // Bytes that came before the handshake callback are held by the pipe until the app is connected.
      const early = s.data.early;
      s.data.early = undefined;
      if (early) for (const b of early) pipe.data("down", b);
      Bun.connect<PipeLink>({
        hostname: target.app.address,
        port: target.app.port,
        allowHalfOpen: true,
        data: { pipe, side: "up" },
        socket: {
          ...pipeEvents,
          open(app) {
            if (pipe.finished) return app.terminate(); // the caller left while we connected
            app.setNoDelay(true);
            if (counters !== undefined) counters.connections.ok++;
            pipe.attach("up", app);
            pipe.start();
          },
          connectError() {
            if (counters !== undefined) counters.connections["connect-failure"]++;
            pipe.abort();
          },
        },
      }).catch(() => {}); // reported through connectError
      return true;
    },
    connections: () => pipes.size(),
    drain: (ms) => pipes.drain(ms),
  };
}
