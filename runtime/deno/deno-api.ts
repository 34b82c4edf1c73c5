// The few Deno APIs the Deno adapter uses, typed here and read from globalThis, so the repo's one tsconfig (Bun
// types) checks this folder too and no other folder can reach Deno.* by accident. `deno check` checks them for real.

export type DenoNetAddr = { transport: string; hostname: string; port: number };
export type DenoServeOptions = {
  hostname: string;
  port: number;
  /** PEM; both or neither: with them Deno.serve terminates TLS (HTTPS, no client certificates). */
  cert?: string;
  key?: string;
  onListen?: (addr: DenoNetAddr) => void;
  onError?: (err: unknown) => Response | Promise<Response>;
};
export type DenoServeHandler = (req: Request, info: { remoteAddr: DenoNetAddr }) => Response | Promise<Response>;
export type DenoHttpServer = { readonly addr: DenoNetAddr; readonly finished: Promise<void>; shutdown(): Promise<void> };

export type DenoApi = {
  serve(options: DenoServeOptions, handler: DenoServeHandler): DenoHttpServer;
  stdout: { writeSync(p: Uint8Array): number };
};

/** The Deno namespace; throws on any other runtime (the Deno adapter must never be picked there). */
export function denoApi(): DenoApi {
  const d = (globalThis as { Deno?: DenoApi }).Deno;
  if (d === undefined) throw new Error("runtime/deno needs Deno (run with `deno run`)");
  return d;
}
