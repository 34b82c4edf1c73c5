// The Bun adapter behind the runtime ports: the mesh client on Bun.FetchSession, our HTTP/1.1 plain client,
// Bun.serve for loopback admin endpoints, and a FileSink-buffered stdout.
import type { RuntimePorts } from "../ports.ts";
import { createMeshClient } from "./mesh-client.ts";
import { createPlainClient } from "./http1-client.ts";
import { createStdoutSink } from "./log-sink.ts";
import { caFetch } from "./ca-fetch.ts";

export const bunRuntime: RuntimePorts = {
  name: "bun",
  createMeshClient,
  createPlainClient,
  caFetch,
  serveWeb(opts) {
    const server = Bun.serve({ hostname: opts.hostname, port: opts.port, fetch: opts.fetch });
    return { port: server.port ?? opts.port, stop: () => void server.stop(true) };
  },
  stdoutSink: createStdoutSink,
  collectGarbage: () => Bun.gc(true),
};
