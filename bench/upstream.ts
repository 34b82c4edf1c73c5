// The tiny upstream every bench scenario ends at: a fixed JSON body, as cheap as Bun can serve it.
// Prints one JSON "ready" line with its port so the runner can wire proxies to it.
import { announceAndStopOnSignal } from "./lib/announce.ts";
const port = Number(process.argv[process.argv.indexOf("--port") + 1] ?? 0) || 0;
const body = '{"ok":true}';

const server = Bun.serve({
  hostname: "127.0.0.1",
  port,
  fetch: () => new Response(body, { headers: { "content-type": "application/json" } }),
});

announceAndStopOnSignal(server, "bench-upstream");

export {};
