// The ports every runtime adapter implements (runtime/bun, runtime/deno): what the member layer and the assemblies
// code against. Inbound: mTLS, caller's SPIFFE id from its verified certificate (permissive: plaintext too); outbound pins the server's id.

import type { Endpoint } from "../shared/types.ts";
import type { RelayPlanner } from "../shared/proxy/inbound-relay-plan.ts";
import type { Observation } from "../shared/telemetry/observe.ts";
import type { LineSink } from "../shared/telemetry/access-log.ts";

/** The inbound fast path: request heads the planner accepts are relayed to the app without a Request/Response. */
export type InboundRelay = {
  readonly planner: RelayPlanner;
  readonly app: { readonly address: string; readonly port: number };
  readonly observe: Observation;
};

export type TlsMaterial = { spiffeId: string; keyPem: string; certChainPem: string /* leaf + intermediate */; trustBundlePem: string /* roots */ };
export type PeerIdentity = { spiffeId: string };
export type InboundLimits = {
  maxHeaderBytes: number;
  headerTimeoutMs: number;
  idleTimeoutMs: number;
  /** Defaults (10 MiB, 10 s, 60 s) match shared/config/defaults.ts; the listeners pass the config's values. */
  maxBodyBytes?: number;
  bodyIdleTimeoutMs?: number;
  bodyTimeoutMs?: number;
};
/** "strict": mTLS only. "permissive": the same port also takes plaintext HTTP/1.1, from callers without an identity. */
export type InboundMode = "strict" | "permissive";
export type MtlsServerOptions = {
  hostname: string;
  port: number; // port 0 = pick a free one
  credentials: () => TlsMaterial; // read when the listener starts and again for new connections after it changes
  trustDomain: string; // peers must present a spiffe id in this trust domain
  limits: InboundLimits;
  /** The mode at start (default "strict"); MtlsServer.setMode changes it. */
  mode?: InboundMode;
  /** `target`: path + query as received (before URL parsing resolved any dot-segments). */
  handler: (req: Request, peer: PeerIdentity, target: string) => Promise<Response>;
  /** Requests from plaintext callers, which have no identity: required for "permissive", never called in "strict". */
  plaintextHandler?: (req: Request, target: string) => Promise<Response>;
  /** Optional (runtimes may ignore it): relay what needs no L7 policy straight to the app; the rest goes to `handler`. */
  relay?: InboundRelay;
  /** Optional: L4 mode, decided per connection once its peer is verified (services with protocol: tcp). */
  l4?: InboundL4;
  /**
   * Optional: told about each refused peer (bad identity, failed handshake) for logs and metrics. `code` buckets the
   * refusal for metrics; it is absent for listener events that refuse no peer (a failed relay, a failed rotation).
   */
  onRefused?: (reason: string, code?: RefusalReason) => void;
};
/** Why a connection was refused before any request: failed handshake, X509-SVID rules, draining, bytes before the handshake, handshake timeout. */
export type RefusalReason = "handshake" | "svid" | "draining" | "early-data" | "timeout";
export type MtlsServer = {
  readonly port: number;
  inFlight(): number;
  /** Stop accepting, let in-flight finish up to drainMs, then force-close. */
  close(opts: { drainMs: number }): Promise<void>;
  /** Optional extra: connections accepted with a valid identity since start (tests and metrics). */
  connectionsAccepted(): number;
  mode(): InboundMode;
  /**
   * Switches the mode on the same port for new connections. Leaving "permissive" closes plaintext connections once
   * their request in flight is answered; mTLS connections carry on. Throws if the port cannot be taken (the mode stays).
   */
  setMode(mode: InboundMode): void;
};
/** Which side of a sidecar an L4 connection crosses: into its own service, or out to an upstream's. */
export type TcpDirection = "inbound" | "outbound";
/** How an L4 connection's setup ended: piping, refused by authorization, no upstream reached, the wrong identity met. */
export type TcpResult = "ok" | "denied" | "connect-failure" | "identity-mismatch";
/**
 * Plain numbers the L4 pipes bump as they go, read by the metrics at scrape. `received`: bytes from the caller's side
 * towards the service; `sent`: bytes back towards the caller (so both sidecars of one connection agree).
 */
export type TcpCounters = { readonly connections: Record<TcpResult, number>; active: number; received: number; sent: number };
/** The counters of one direction and service (the destination outbound, the sidecar's own inbound). */
export type TcpTally = (direction: TcpDirection, service: string) => TcpCounters;

/** The inbound's verdict on one verified connection in L4 mode: pipe its bytes to the app, or close it. */
export type L4Target =
  | { readonly service: string; readonly allowed: true; readonly app: { readonly address: string; readonly port: number } }
  | { readonly service: string; readonly allowed: false };
export type InboundL4 = {
  /** Once per connection, after the handshake and the X509-SVID check; undefined = HTTP/1.1 as usual. */
  route(peer: PeerIdentity): L4Target | undefined;
  tally?: TcpTally | undefined;
};

export type SendOptions = { signal: AbortSignal; connectTimeoutMs: number };
export type MeshClient = {
  send(endpoint: Endpoint, expectedSpiffeId: string, req: Request, opts: SendOptions): Promise<Response>;
  close(): void;
};

/** Plaintext HTTP/1.1 to an upstream (the app on loopback, services with `mtls: disable`); never invents headers. */
export type PlainClient = {
  send(endpoint: Pick<Endpoint, "address" | "port">, req: Request, opts: { signal: AbortSignal; connectTimeoutMs?: number }): Promise<Response>;
  close(): void;
};

/** Where log lines go: a buffered writer, one write per batch, flushed on exit. */
export type LogSink = LineSink & { flush(): void };

/** A small web listener for loopback-only endpoints (admin): no mesh policy runs on it. */
export type WebServer = { readonly port: number; stop(): void };
export type ServeWeb = (opts: { hostname: string; port: number; fetch: (req: Request) => Response | Promise<Response> }) => WebServer;

/**
 * How a member's call to its CA is verified. "none" is only for the first look at a CA whose root the member pins by
 * fingerprint (nothing secret is sent on it); "pinned" checks the CA's chain against `rootsPem` and insists on `serverId`
 * in its URI SAN, and may present the member's leaf as client certificate (renewal).
 */
export type CaTls =
  | { verify: "none" }
  | { verify: "pinned"; rootsPem: string; serverId: string; client?: { keyPem: string; certChainPem: string } };
/** One HTTPS request to the CA on a fresh connection (never pooled: a connection made under one TLS mode must not serve another). */
export type CaFetch = (url: string, req: { method: "GET" | "POST"; body?: string; tls: CaTls; timeoutMs: number }) => Promise<{ status: number; text: string }>;

/** What a member needs from its runtime; the assembly (gateway/, sidecar/) picks the adapter and passes it in. */
export type RuntimePorts = {
  readonly name: "bun" | "deno";
  createMeshClient(opts: { credentials: () => TlsMaterial }): MeshClient;
  createPlainClient(): PlainClient;
  caFetch: CaFetch;
  serveWeb: ServeWeb;
  stdoutSink(): LogSink;
  /**
   * A full garbage collection now, where it gives memory back (Bun). Members call it after reading a large config
   * (member/reclaim.ts). Undefined on Deno: after a 10,000-route read (+73 MB), V8's `gc()` (behind --expose-gc) gave
   * back 8 MB and the rest stayed for as long as we watched, so it is not worth a flag.
   */
  readonly collectGarbage?: () => void;
};
