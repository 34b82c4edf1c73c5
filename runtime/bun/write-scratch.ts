// One buffer per process in which bytes are assembled right before their socket write (a request head, a response
// head with the body at hand): the write borrows it, so the common request makes no Buffer of its own for them.

// Why: \`Buffer.from\` per head was ~3 % of each sidecar's samples (pair profile, under the RelayExchange constructor).
// Safe because the write copies what the kernel doesn't take before returning (SocketWriter.writeRange, AppLink's
// early queue), and nothing runs between assembling and writing.
const SIZE = 64 * 1024;
const scratch = Buffer.allocUnsafeSlow(SIZE);

/** A buffer of at least \`n\` bytes to assemble into and write at once: the scratch one, or a new one past its size. */
export function assembly(n: number): Buffer {
  return n <= SIZE ? scratch : Buffer.allocUnsafe(n);
}
