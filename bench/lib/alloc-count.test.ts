// Unit tests for reading the allocation probe's windows and rendering them per request.
// The probe itself runs in real proxies (bench/alloc.ts); here only the text it writes.
import { describe, expect, test } from "bun:test";
import { ALLOC_LINE, idleRate, lastWindow, perRequest, renderPerRequest, type AllocWindow } from "./alloc-count.ts";

const W: AllocWindow = { collected: false, ms: 500, counts: { string: 4000, Array: 1000, Object: 2000 } };
/** 1 s with no request: 400 objects and 100 strings of the process's own. */
const IDLE: AllocWindow = { collected: false, ms: 1000, counts: { Object: 400, string: 100, Timeout: 10 } };

describe("allocation windows", () => {
  test("the newest window in a log is read; a log without one gives undefined", () => {
    const older: AllocWindow = { ...W, collected: true };
    const log = `ready\n${ALLOC_LINE}${JSON.stringify(older)}\nsome line\n${ALLOC_LINE}${JSON.stringify(W)}\n`;
    expect(lastWindow(log)).toEqual(W);
    expect(lastWindow("ready\n")).toBeUndefined();
  });

  test("a window at the very end of a log (no newline yet) is read", () => {
    expect(lastWindow(`${ALLOC_LINE}${JSON.stringify(W)}`)).toEqual(W);
  });

  test("per request: totals divided by the requests, types most first", () => {
    const p = perRequest(W, 100);
    expect(p.objects).toBe(70);
    expect(p.types).toEqual([["string", 40], ["Object", 20], ["Array", 10]]);
  });

  test("the rendered line names the proxy, the total and the types", () => {
    expect(renderPerRequest("sidecar-b", W, 100)).toBe("sidecar-b: 70.0 objects per request (string 40.00, Object 20.00, Array 10.00)");
  });

  test("what the process allocates with no request is taken off at its rate times the window's length", () => {
    // The window is 500 ms: 200 Objects and 50 strings of it are the process's own.
    const p = perRequest(W, 100, IDLE);
    expect(p.types).toEqual([["string", 39.5], ["Object", 18], ["Array", 10]]);
    expect(p.objects).toBe(67.5);
    expect(idleRate(IDLE)).toBe(510);
    expect(renderPerRequest("sidecar-b", W, 100, IDLE)).toEndWith("Array 10.00); 510/s with no request, taken off");
  });

  test("a type only the idle window has, or more of it than the window, never goes below zero", () => {
    const p = perRequest({ collected: false, ms: 1000, counts: { Object: 100 } }, 10, IDLE);
    expect(p).toEqual({ objects: 0, types: [] });
  });
});
