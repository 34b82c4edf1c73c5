// The pipe's rules on fake sockets whose kernel buffer we control: bytes held until start, a source paused while its
// bytes wait and resumed once they are out, a FIN passed on only behind the bytes before it, counters settled once.
import { expect, test } from "bun:test";
import type { Socket } from "bun";
import { HOLD_BYTES, TcpPipe } from "./tcp-pipe.ts";
import type { TcpCounters } from "../ports.ts";

/** A socket whose write takes at most `room` bytes (then 0 until more room is given). */
function fake() {
  const f = {
    room: Number.POSITIVE_INFINITY,
    written: [] as number[],
    paused: false,
    pauses: 0,
    shut: false,
    terminated: false,
    write(d: Uint8Array): number {
      const n = Math.min(d.length, f.room);
      f.room -= n;
      if (n > 0) f.written.push(...d.subarray(0, n));
      return n;
    },
    pause() {
      f.paused = true;
      f.pauses++;
    },
    resume() {
      f.paused = false;
    },
    shutdown() {
      f.shut = true;
    },
    terminate() {
      f.terminated = true;
    },
  };
  return f;
}
const sock = (f: ReturnType<typeof fake>) => f as unknown as Socket<unknown>;
const counters = (): TcpCounters => ({ connections: { ok: 0, denied: 0, "connect-failure": 0, "identity-mismatch": 0 }, active: 0, received: 0, sent: 0 });
const bytes = (n: number, v = 1) => new Uint8Array(n).fill(v);

test("bytes before start are held (reading pauses past the bound) and go out in order at start", () => {
  const down = fake();
  const up = fake();
  const done: TcpPipe[] = [];
  const p = new TcpPipe(counters(), (x) => done.push(x));
  p.attach("down", sock(down));
  p.data("down", bytes(HOLD_BYTES, 1));
  expect(down.paused).toBe(false);
  p.data("down", bytes(10, 2));
  expect(down.paused).toBe(true); // past the bound
  p.attach("up", sock(up));
  expect(up.written.length).toBe(0); // attached, not started: nothing yet
  p.start();
  expect(up.written.length).toBe(HOLD_BYTES + 10);
  expect(up.written.at(-1)).toBe(2);
  expect(down.paused).toBe(false);
});

test("a partial write pauses the source; the drain flushes in order and resumes it", () => {
  const down = fake();
  const up = fake();
  const c = counters();
  const p = new TcpPipe(c, () => {});
  p.attach("down", sock(down));
  p.attach("up", sock(up));
  p.start();
  up.room = 3;
  p.data("down", Uint8Array.of(1, 2, 3, 4, 5));
  expect(down.paused).toBe(true);
  p.data("down", Uint8Array.of(6, 7)); // delivered though paused: queued behind
  up.room = 2;
  p.drain("up");
  expect(down.paused).toBe(true); // still behind
  up.room = Number.POSITIVE_INFINITY;
  p.drain("up");
  expect(up.written).toEqual([1, 2, 3, 4, 5, 6, 7]);
  expect(down.paused).toBe(false);
  expect(c.received).toBe(7);
  expect(c.active).toBe(1);
});

test("a FIN is passed on only after the bytes before it; both sides closed settles the pipe once", () => {
  const down = fake();
  const up = fake();
  const c = counters();
  let finished = 0;
  const p = new TcpPipe(c, () => finished++);
  p.attach("down", sock(down));
  p.attach("up", sock(up));
  p.start();
  up.room = 1;
  p.data("down", Uint8Array.of(9, 9));
  p.end("down");
  expect(up.shut).toBe(false); // one byte still waits
  up.room = Number.POSITIVE_INFINITY;
  p.drain("up");
  expect(up.shut).toBe(true);
  // The other way still flows after the caller's FIN: half-close.
  p.data("up", Uint8Array.of(7));
  expect(down.written).toEqual([7]);
  expect(c.sent).toBe(1);
  p.end("up");
  expect(down.shut).toBe(true);
  p.close("up");
  p.close("down");
  p.close("down");
  expect(finished).toBe(1);
  expect(c.active).toBe(0);
  expect(p.finished).toBe(true);
});

test("a side that closes before the pipe started cuts the other; one that closes later lets the other finish", () => {
  const a = fake();
  const p = new TcpPipe(undefined, () => {});
  p.attach("down", sock(a));
  p.close("up");
  expect(a.terminated).toBe(true);
  expect(p.finished).toBe(true);

  const down = fake();
  const up = fake();
  const q = new TcpPipe(undefined, () => {});
  q.attach("down", sock(down));
  q.attach("up", sock(up));
  q.start();
  down.room = 0;
  q.data("up", Uint8Array.of(1, 2));
  q.close("up"); // the service went away: the caller still gets what was sent, then FIN
  expect(down.shut).toBe(false);
  down.room = Number.POSITIVE_INFINITY;
  q.drain("down");
  expect(down.written).toEqual([1, 2]);
  expect(down.shut).toBe(true);
  expect(q.finished).toBe(false);
  q.close("down");
  expect(q.finished).toBe(true);
});
