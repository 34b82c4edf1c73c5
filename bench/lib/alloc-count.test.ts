// Unit tests for reading the allocation probe's windows and rendering them per request.
// The probe itself runs in real proxies (bench/alloc.ts); here only the text it writes.
import { describe, expect, test } from "bun:test";
import { ALLOC_LINE, lastWindow, perRequest, renderPerRequest, type AllocWindow } from "./alloc-count.ts";

const W: AllocWindow = { collected: false, counts: { string: 4000, Array: 1000, Object: 2000 } };

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
});
