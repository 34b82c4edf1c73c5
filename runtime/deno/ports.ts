// The Deno adapter behind the runtime ports: the mesh client and plain client on node:https/node:http keep-alive
// Agents, Deno.serve for loopback admin endpoints, and a buffered stdout.
import type { RuntimePorts } from "../ports.ts";
import { createMeshClient } from "./mesh-client.ts";
import { createPlainClient } from "./plain-client.ts";
import { createStdoutSink } from "./log-sink.ts";
import { startDenoHttpServer } from "./http-server.ts";
import { caFetch } from "./ca-fetch.ts";

export const denoRuntime: RuntimePorts = {
  name: "deno",
  createMeshClient,
  createPlainClient,
  caFetch,
  serveWeb(opts) {
    const server = startDenoHttpServer({ hostname: opts.hostname, port: opts.port, handler: (req) => opts.fetch(req) });
    // Admin endpoints answer at once; stop() needs no drain, but Deno.serve is only shut down asynchronously.
    return { port: server.port, stop: () => void server.close({ drainMs: 0 }) };
  },
  stdoutSink: createStdoutSink,
};
