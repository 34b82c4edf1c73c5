// A listener on Deno.serve: the gateway's edge (HTTP, or HTTPS with the listener's certificate) and the admin
// endpoint. Deno.serve parses HTTP/1.1 itself (hyper), so the config's header and body limits are not applied here.
import { errorResponse } from "../../shared/http/errors.ts";
import { denoApi, type DenoHttpServer } from "./deno-api.ts";

/**
 * What our own HTTP/1.1 parser refuses at the head and hyper lets through. Methods are case-sensitive, but the
 * Fetch API upper-cases "get" (and a Request for it then may not carry a body), so a lower-case one is refused.
 */
function refusedHead(req: Request): Response | undefined {
  const m = req.method;
  if (m !== m.toUpperCase()) return errorResponse("bad-request", crypto.randomUUID(), "method must be upper-case");
  if (m === "CONNECT") return errorResponse("not-implemented", crypto.randomUUID(), "CONNECT is not supported");
  return undefined;
}

export type DenoHttpServerOptions = {
  hostname: string;
  port: number; // 0 = pick a free one
  tls?: { cert: string; key: string };
  /** `remoteAddress`: the downstream's IP. Deno.serve hands over no raw request target, only the parsed URL. */
  handler: (req: Request, remoteAddress: string) => Response | Promise<Response>;
};

export type StartedHttpServer = {
  readonly hostname: string;
  readonly port: number;
  inFlight(): number;
  /** Stop accepting and let in-flight requests finish; after drainMs the caller goes on without them. */
  close(opts: { drainMs: number }): Promise<void>;
};

export function startDenoHttpServer(o: DenoHttpServerOptions): StartedHttpServer {
  let inFlight = 0;
  const server: DenoHttpServer = denoApi().serve(
    {
      hostname: o.hostname,
      port: o.port,
      ...(o.tls === undefined ? {} : { cert: o.tls.cert, key: o.tls.key }),
      onListen: () => {}, // Deno prints "Listening on ..." by default; our ready line says it instead
      // A handler that throws gets the core's JSON 500 (Deno's default is a plain-text one); the error goes to stderr.
      onError: (err) => {
        console.error(err);
        return errorResponse("internal", crypto.randomUUID(), "internal error");
      },
    },
    async (req, info) => {
      const refused = refusedHead(req);
      if (refused !== undefined) return refused;
      inFlight++;
      try {
        return await o.handler(req, info.remoteAddr.hostname);
      } finally {
        inFlight--;
      }
    },
  );
  return {
    hostname: server.addr.hostname,
    port: server.addr.port,
    inFlight: () => inFlight,
    async close({ drainMs }) {
      // shutdown() stops accepting and waits for in-flight responses; the drain budget bounds that wait.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([server.shutdown(), new Promise<void>((r) => (timer = setTimeout(r, drainMs)))]);
      clearTimeout(timer);
    },
  };
}
