// `npm run gateway:deno`: the ingress gateway on Deno. The same assembly as on Bun (gateway/assemble.ts), with
// Deno.serve as the listener and the Deno adapter's node:https mesh client (runtime/deno/).
import { runGateway } from "./assemble.ts";
import { denoRuntime } from "../runtime/deno/ports.ts";
import { startDenoHttpServer } from "../runtime/deno/http-server.ts";

runGateway({
  runtime: denoRuntime,
  // Deno.serve gives no raw request target: the path policy reads req.url, which Deno 2.9.6 builds from the path as
  // sent (dot-segments and escapes kept, so they are refused as on Bun). Header size and timeouts are Deno.serve's own.
  listen: (l) => startDenoHttpServer({ hostname: l.hostname, port: l.port, tls: l.tls, handler: (req, remoteAddress) => l.handler(req, remoteAddress) }),
}).catch((err) => {
  console.error(`gateway: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exit(1);
});
