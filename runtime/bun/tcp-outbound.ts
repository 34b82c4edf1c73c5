// The caller's side of a TCP service: a plaintext listener on 127.0.0.1 per upstream; each accepted connection is
// carried over a new mTLS connection to one endpoint of the service, whose certificate must carry the service's id.
import type { Socket, SocketHandler, TCPSocketListener, TLSOptions } from "bun";
import type { Cluster, Endpoint } from "../../shared/types.ts";
import type { TcpCounters, TcpResult, TlsMaterial } from "../ports.ts";
import { assertStrictTlsEnvironment } from "../strict-env.ts";
import { sameMaterial } from "./tls-material.ts";
import { createPipeSet, pipeEvents, type PipeLink, type TcpPipe } from "./tcp-pipe.ts";
import { upstreamVerdict } from "./tcp-verify.ts";

export type TcpUpstreamOptions = {
  /** The destination service (for logs; the cluster carries its SPIFFE id). */
  service: string;
  hostname: string;
  port: number; // 0 = pick a free one
  credentials: () => TlsMaterial;
  /** The service's cluster in the live snapshot, read per connection; undefined refuses the connection. */
  cluster: () => Cluster | undefined;
  connectTimeoutMs: number;
  counters?: TcpCounters | undefined;
  /** Told why a connection could not be carried; the caller decides how much of it to log. */
  onFailure?: (result: Exclude<TcpResult, "ok" | "denied">, detail: string) => void;
};

export type TcpUpstream = { readonly port: number; connections(): number; stop(drainMs: number): Promise<void> };

/** One try at one endpoint; settled once (verified, failed, or timed out), reported to the balancer once. */
type Attempt = { readonly endpoint: Endpoint; readonly cluster: Cluster; sock: Socket<UpLink> | undefined; timer: ReturnType<typeof setTimeout> | undefined; settled: boolean; verified: boolean };
type UpLink = PipeLink & { readonly attempt: Attempt; readonly fail: (detail: string) => void; readonly verify: (s: Socket<UpLink>, authError: Error | null) => void };

/** A connect fails over to another endpoint once. */
const TRIES = 2;

const upEvents: SocketHandler<UpLink> = {
  ...(pipeEvents as unknown as SocketHandler<UpLink>),
  open(s) {
    if (s.data.attempt.settled) return s.terminate(); // timed out while connecting
    s.data.attempt.sock = s; // TCP is up; the handshake follows
  },
  handshake(s, _success, authError) {
    s.data.verify(s, authError);
  },
  connectError(s, err) {
    s.data.fail(err.message);
  },
  end(s) {
    if (s.data.attempt.verified) s.data.pipe.end("up");
  },
  close(s) {
    const a = s.data.attempt;
    if (!a.verified) return s.data.fail("closed before the TLS handshake completed");
    a.cluster.balancer.report(a.endpoint, "success"); // started at connect: least_request counts open connections
    s.data.pipe.close("up");
  },
};

export function startTcpUpstream(opts: TcpUpstreamOptions): TcpUpstream {
  assertStrictTlsEnvironment();
  const pipes = createPipeSet();
  const counters = opts.counters;
  let draining = false;
  // Rebuilt only when the credentials change (rotation), so each connection does not hand Bun new PEM strings.
  let tls: { creds: TlsMaterial; options: TLSOptions } | undefined;
  const currentTls = (): TLSOptions => {
    const now = opts.credentials();
    // rejectUnauthorized is off because Bun.connect also checks the host name, which a SPIFFE leaf (URI SAN only) never
    // matches; the chain is still checked, and tcp-verify.ts refuses any verdict but that one mismatch.
    if (tls === undefined || !sameMaterial(tls.creds, now)) tls = { creds: now, options: { key: now.keyPem, cert: now.certChainPem, ca: now.trustBundlePem, rejectUnauthorized: false } };
    return tls.options;
  };

  const refuse = (pipe: TcpPipe, result: "connect-failure" | "identity-mismatch", detail: string): void => {
    if (counters !== undefined) counters.connections[result]++;
    opts.onFailure?.(result, detail);
    pipe.abort();
  };

  const dial = (pipe: TcpPipe, tried: Set<string>, left: number): void => {
    const cluster = opts.cluster();
    if (cluster === undefined) return refuse(pipe, "connect-failure", `${opts.service} is not a TCP service in the live config`);
    const endpoint = cluster.balancer.pick(tried);
    if (endpoint === undefined) return refuse(pipe, "connect-failure", `no healthy endpoint of ${opts.service}`);
    // Re-added at the end: balancers read the last id as the endpoint that failed most recently.
    tried.delete(endpoint.id);
    tried.add(endpoint.id);
    cluster.balancer.start(endpoint);
    const attempt: Attempt = { endpoint, cluster, sock: undefined, timer: undefined, settled: false, verified: false };
    const fail = (detail: string): void => {
      if (attempt.settled) return;
      attempt.settled = true;
      clearTimeout(attempt.timer);
      attempt.sock?.terminate();
      cluster.balancer.report(endpoint, "connect-failure");
      if (pipe.finished) return;
      if (left > 1) return dial(pipe, tried, left - 1);
      refuse(pipe, "connect-failure", `${endpoint.address}:${endpoint.port}: ${detail}`);
    };
    const verify = (s: Socket<UpLink>, authError: Error | null): void => {
      if (attempt.settled) return s.terminate();
      clearTimeout(attempt.timer);
      const refused = upstreamVerdict(s.getPeerX509Certificate()?.raw, authError, cluster.spiffeId);
      attempt.settled = true;
      if (refused !== undefined) {
        s.terminate();
        cluster.balancer.report(endpoint, "connect-failure");
        if (!pipe.finished) refuse(pipe, "identity-mismatch", `${endpoint.address}:${endpoint.port}: ${refused}`);
        return;
      }
      attempt.verified = true;
      if (pipe.finished) return s.terminate(); // the app left while we connected
      if (counters !== undefined) counters.connections.ok++;
      s.setNoDelay(true);
      pipe.attach("up", s);
      pipe.start();
    };
    attempt.timer = setTimeout(() => fail(`not connected within ${opts.connectTimeoutMs}ms`), opts.connectTimeoutMs);
    Bun.connect<UpLink>({
      hostname: endpoint.address,
      port: endpoint.port,
      allowHalfOpen: true,
      tls: currentTls(),
      data: { pipe, side: "up", attempt, fail, verify },
      socket: upEvents,
    }).catch((e: unknown) => fail(e instanceof Error ? e.message : String(e)));
  };

  const listener: TCPSocketListener<PipeLink | undefined> = Bun.listen<PipeLink | undefined>({
    hostname: opts.hostname,
    port: opts.port,
    allowHalfOpen: true,
    data: undefined,
    socket: {
      ...(pipeEvents as unknown as SocketHandler<PipeLink | undefined>),
      open(app) {
        if (draining) return app.terminate();
        const pipe = pipes.add(counters);
        app.data = { pipe, side: "down" };
        app.setNoDelay(true);
        // The app's first bytes wait in the pipe (bounded: past it, reading pauses) until the upstream is verified.
        pipe.attach("down", app);
        dial(pipe, new Set(), TRIES);
      },
    },
  });

  return {
    port: listener.port,
    connections: () => pipes.size(),
    async stop(drainMs) {
      draining = true;
      listener.stop(false);
      await pipes.drain(drainMs);
      listener.stop(true);
    },
  };
}
