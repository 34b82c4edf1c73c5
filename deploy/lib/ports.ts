// Free-port helpers for tests and the demo: ask the kernel for ports on 127.0.0.1, or find a block where fixed offsets are free.
// Tests never use fixed ports, so suites can run in parallel with a demo or another run.
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

function probe(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(undefined));
    srv.listen(port, "127.0.0.1", () => {
      const addr = srv.address();
      const got = typeof addr === "object" && addr !== null ? addr.port : undefined;
      srv.close(() => resolve(got));
    });
  });
}

/** The kernel's ephemeral range (source ports of outgoing connections); Linux's default when unreadable. */
function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (lo !== undefined && hi !== undefined && lo > 0 && hi >= lo) return [lo, hi];
  } catch {
    // not Linux, or /proc hidden: assume the default
  }
  return [32768, 60999];
}

/** How many parts the range is cut into for `bun test --parallel` workers (see workerSlice). */
const WORKER_SLICES = 4;

/**
 * Under `bun test --parallel`, the part of the range this worker's tests (and what they spawn, which inherits the
 * variable) take ports from. Two workers probing the same range raced: a demo's block, probed free, lost a port to
 * the other worker's freePort before its sidecar bound it ("port 21121 in use"). Disjoint parts can't collide.
 */
function workerSlice(range: { bottom: number; top: number }): { bottom: number; top: number } {
  const id = Number(process.env.BUN_TEST_WORKER_ID);
  if (!Number.isInteger(id) || id < 1) return range;
  const width = Math.floor((range.top - range.bottom + 1) / WORKER_SLICES);
  const bottom = range.bottom + ((id - 1) % WORKER_SLICES) * width;
  return { bottom, top: bottom + width - 1 };
}

/** Where our listeners' ports come from: under the ephemeral range, whose ports any outgoing connection may take. */
function belowEphemeral(): { bottom: number; top: number } {
  const [low] = ephemeralRange();
  const top = Math.min(low, 65536) - 1;
  return workerSlice({ bottom: Math.max(10000, Math.min(top - 2000, 20000)), top });
}

const handedOut = new Set<number>();

/**
 * A port free right now, chosen below the ephemeral range: a port 0 bind returns one from that range, where any
 * outgoing connection (a pool, a Consul call, wrk) may take it as its source port before the server binds it
 * (seen as "Failed to listen" in CI). Never the same port twice in one process: two callers may bind late.
 */
export async function freePort(): Promise<number> {
  const { bottom, top } = belowEphemeral();
  for (let tries = 0; tries < 200; tries++) {
    const port = bottom + Math.floor(Math.random() * (top - bottom + 1));
    if (handedOut.has(port)) continue;
    if ((await probe(port)) === port) {
      handedOut.add(port);
      return port;
    }
  }
  // Everything below the range is taken (or the range starts very low): fall back to the kernel's choice.
  const p = await probe(0);
  if (p === undefined) throw new Error("no free port");
  handedOut.add(p);
  return p;
}

/**
 * A base port such that base + every offset is free right now (the demo layout uses fixed offsets), the whole block
 * below the ephemeral range like freePort's ports: a block reaching into it lost a port to an outgoing connection's
 * source port in CI ("port 45214 in use" for the demo's admin listener).
 */
export async function freeBlock(offsets: readonly number[]): Promise<number> {
  const { bottom, top } = belowEphemeral();
  const span = Math.max(...offsets);
  if (top - span < bottom) throw new Error(`no room below the ephemeral range for a block spanning ${span} ports`);
  for (let tries = 0; tries < 50; tries++) {
    const base = bottom + Math.floor(Math.random() * (top - span - bottom + 1));
    let ok = true;
    for (const o of offsets) {
      if ((await probe(base + o)) === undefined) {
        ok = false;
        break;
      }
    }
    if (ok) return base;
  }
  throw new Error("no free port block found");
}
