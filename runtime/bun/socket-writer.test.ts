// Unit tests for the writer's queue with a scripted socket (how many bytes each write takes): borrowed ranges are
// copied when they must wait, so the caller may reuse its buffer (write-scratch.ts) as soon as the call returns.
import { expect, test } from "bun:test";
import type { Socket } from "bun";
import { SocketWriter } from "./socket-writer.ts";

/** A socket that takes at most `room[i]` bytes on its i-th write (all of them once the script runs out). */
function scripted(room: number[]) {
  const taken: number[] = [];
  const sock = {
    write(data: Uint8Array, from = 0, length = data.length - from): number {
      const n = Math.min(length, room.shift() ?? length);
      for (let i = 0; i < n; i++) taken.push(data[from + i]!);
      return n;
    },
  };
  return { sock: sock as unknown as Socket<unknown>, taken };
}

const bytes = (...xs: number[]): Uint8Array => Uint8Array.from(xs);

test("a range the socket takes whole: nothing queued", () => {
  const { sock, taken } = scripted([]);
  const w = new SocketWriter(sock);
  expect(w.writeRange(bytes(1, 2, 3, 4, 5), 1, 4)).toBe(true);
  expect(taken).toEqual([2, 3, 4]);
  expect(w.backlogged).toBe(false);
});

test("the rest of a range the socket took part of is copied: the caller's buffer may be reused at once", () => {
  const { sock, taken } = scripted([2]);
  const w = new SocketWriter(sock);
  const buf = bytes(1, 2, 3, 4, 5, 6);
  expect(w.writeRange(buf, 1, 5)).toBe(false);
  buf.fill(0); // the scratch buffer, reused by the next exchange
  // Behind the backlog a range is copied whole, whatever happens to its buffer after.
  const next = bytes(7, 8);
  expect(w.writeRange(next, 0, 2)).toBe(false);
  next.fill(0);
  w.onDrain();
  expect(taken).toEqual([2, 3, 4, 5, 7, 8]);
  expect(w.backlogged).toBe(false);
});

test("a write that took nothing queues the whole range", () => {
  const { sock, taken } = scripted([0]);
  const w = new SocketWriter(sock);
  const buf = bytes(9, 8, 7);
  expect(w.writeRange(buf, 0, 3)).toBe(false);
  buf.fill(0);
  w.onDrain();
  expect(taken).toEqual([9, 8, 7]);
});
