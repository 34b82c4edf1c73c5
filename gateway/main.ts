// `bun run gateway`: the ingress gateway on Bun. The wiring is runtime-neutral (assemble.ts); this entry point picks
// the Bun adapter and our strict HTTP/1.1 listener (gateway/main-deno.ts is the Deno one).
import "reflect-metadata";
import { runGateway } from "./assemble.ts";
import { bunRuntime } from "../runtime/bun/ports.ts";
import { startHttpServer } from "../runtime/bun/http-server.ts";

runGateway({ runtime: bunRuntime, listen: (o) => startHttpServer({ ...o, handler: (req, remote, target) => o.handler(req, remote, target) }) }).catch((err) => {
  console.error(`gateway: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exit(1);
});
