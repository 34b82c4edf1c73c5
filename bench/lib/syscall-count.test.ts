// Unit tests for reading `perf stat -x ,` syscall counts and rendering them per request.
// The text is what perf 6.1 printed here for `perf stat -x , -e raw_syscalls:sys_enter,... -p PID`.
import { describe, expect, test } from "bun:test";
import { parsePerfStatCsv, perfEvents, renderPerRequest, SYSCALLS, TOTAL } from "./syscall-count.ts";

const SAMPLE = [
  "4150,,raw_syscalls:sys_enter,5732535,100.00,,",
  "2011,,syscalls:sys_enter_sendto,5732535,100.00,,",
  "2010,,syscalls:sys_enter_recvfrom,5732535,100.00,,",
  "0,,syscalls:sys_enter_writev,5732535,100.00,,",
  "<not supported>,,syscalls:sys_enter_epoll_pwait2,0,100.00,,",
  "",
].join("\n");

describe("syscall counts", () => {
  test("the total and each named call are read; zero and unsupported rows are left out", () => {
    const c = parsePerfStatCsv(SAMPLE);
    expect(Object.fromEntries(c)).toEqual({ [TOTAL]: 4150, sendto: 2011, recvfrom: 2010 });
  });

  test("the event list asks for the total and every named call", () => {
    const events = perfEvents().split(",");
    expect(events[0]).toBe("raw_syscalls:sys_enter");
    expect(events.length).toBe(SYSCALLS.length + 1);
  });

  test("per request: the total first, then calls from most to fewest", () => {
    const line = renderPerRequest("sidecar-a", parsePerfStatCsv(SAMPLE), 1000);
    expect(line).toBe("sidecar-a: 4.150 system calls per request (sendto 2.011, recvfrom 2.010)");
  });
});
