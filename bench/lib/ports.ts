// Free loopback ports for the bench's listeners, whose ports must be known before the process starts (sidecars,
// gateway config). The same picker as the tests (deploy/lib/ports.ts): below the ephemeral range, never reused.
import { freePort } from "../../deploy/lib/ports.ts";

export { freePort };

/** Several distinct free ports. */
export async function freePorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < n; i++) ports.push(await freePort());
  return ports;
}
