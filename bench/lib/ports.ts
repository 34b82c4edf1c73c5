// Picks free loopback ports by binding port 0 and closing again.
// Used for listeners whose port must be known before the process starts (sidecars, gateway config).
import { createServer } from "node:net";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error("no port"))));
    });
  });
}

/** Several distinct free ports (held open together so they cannot collide with each other). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = Array.from({ length: n }, () => createServer());
  const ports = await Promise.all(
    servers.map(
      (srv) =>
        new Promise<number>((resolve, reject) => {
          srv.once("error", reject);
          srv.listen(0, "127.0.0.1", () => {
            const addr = srv.address();
            resolve(typeof addr === "object" && addr ? addr.port : 0);
          });
        }),
    ),
  );
  await Promise.all(servers.map((srv) => new Promise<void>((r) => srv.close(() => r()))));
  return ports;
}
