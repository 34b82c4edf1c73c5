// Free-port helpers for tests and the demo: ask the kernel for ports on 127.0.0.1, or find a block where fixed offsets are free.
// Tests never use fixed ports, so suites can run in parallel with a demo or another run.
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

export async function freePort(): Promise<number> {
  const p = await probe(0);
  if (p === undefined) throw new Error("no free port");
  return p;
}

/** A base port such that base + every offset is free right now (the demo layout uses fixed offsets). */
export async function freeBlock(offsets: readonly number[]): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const base = 20000 + Math.floor(Math.random() * 30000);
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
