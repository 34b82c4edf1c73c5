// Entry point of the dev CA service: `bun run ca/main.ts --port 0 --trust-domain mesh.local [--address 127.0.0.1]`.
// Keys live in memory only, so every start is a new root: fine for a dev mesh, not for production.
import { parseArgs } from "node:util";
import { createCertificateAuthority } from "../shared/pki/ca.ts";
import { isLoopbackAddress, startCaServer } from "./server.ts";

function fail(msg: string): never {
  console.error(JSON.stringify({ msg, service: "ca", level: "fatal" }));
  process.exit(2);
}

let values: { port?: string; "trust-domain"?: string; address?: string };
try {
  ({ values } = parseArgs({
    options: { port: { type: "string" }, "trust-domain": { type: "string" }, address: { type: "string" } },
    strict: true,
  }));
} catch (err) {
  fail(`bad arguments: ${err instanceof Error ? err.message : String(err)}`);
}

const port = Number(values.port ?? "0");
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be 0..65535, got ${values.port}`);
const trustDomain = values["trust-domain"] ?? "mesh.local";
const address = values.address ?? "127.0.0.1";
if (!isLoopbackAddress(address)) {
  fail(`--address ${address} is not a loopback address; the CA has no caller authentication yet, so it only listens on 127.0.0.0/8 or ::1`);
}

let server: ReturnType<typeof startCaServer>;
try {
  const ca = await createCertificateAuthority({ trustDomain });
  server = startCaServer(ca, { port, hostname: address });
} catch (err) {
  fail(`CA failed to start: ${err instanceof Error ? err.message : String(err)}`);
}
console.log(JSON.stringify({ msg: "ready", service: "ca", port: server.port }));

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await server.stop();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown());
process.on("SIGINT", () => void shutdown());
