// Plaintext HTTP/1.1 on Deno (the app on loopback, services with `mtls: disable`): one node:http keep-alive Agent
// for all endpoints. node:http adds no User-Agent or Accept, so the request reaches the upstream as it was sent.
import * as http from "node:http";
import { stripHopByHop } from "../../shared/http/hop-by-hop.ts";
import { authorityOf, pathAndQuery } from "../../shared/http/url.ts";
import { UpstreamError } from "../../shared/types.ts";
import type { PlainClient } from "../ports.ts";
import { sendOverAgent } from "./node-request.ts";

// Below Node's default server keepAliveTimeout (5 s), so we close an idle connection before the app does
// (a request racing the app's idle close would otherwise die as a reset). The same figure as the Bun client.
const IDLE_MS = 4000;

export function createPlainClient(): PlainClient {
  const agent = new http.Agent({ keepAlive: true, timeout: IDLE_MS, maxFreeSockets: 64 });
  let closed = false;
  return {
    async send(endpoint, req, opts) {
      if (closed) throw new UpstreamError("connect-failure", "plain client is closed");
      const headers = stripHopByHop(req.headers);
      if (!headers.has("host")) headers.set("host", authorityOf(req.url));
      const hasBody = req.body !== null && req.method !== "GET" && req.method !== "HEAD";
      return sendOverAgent({
        request: http.request,
        agent,
        connectedEvent: "connect",
        address: endpoint.address,
        port: endpoint.port,
        method: req.method,
        path: pathAndQuery(req.url),
        headers,
        body: hasBody ? req.body : null,
        signal: opts.signal,
        connectTimeoutMs: opts.connectTimeoutMs,
      });
    },
    close() {
      closed = true;
      agent.destroy();
    },
  };
}
