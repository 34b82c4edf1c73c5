// Unit tests of the memory tools' helpers: the median of a few rounds, and reading this process's own /proc status.
// (Linux only, like the tools themselves.)
import { expect, test } from "bun:test";
import { median, procMemoryMb } from "./memory-stats.ts";

test("median of odd, even and empty lists; the input is left unsorted", () => {
  const xs = [3, 1, 2];
  expect(median(xs)).toBe(2);
  expect(xs).toEqual([3, 1, 2]);
  expect(median([4, 1, 3, 2])).toBe(2.5);
  expect(median([])).toBeNaN();
});

test("procMemoryMb reads VmRSS and VmHWM of a live process in MB, peak at least the current size", () => {
  const s = procMemoryMb(process.pid);
  expect(s.rss).toBeGreaterThan(1);
  expect(s.hwm).toBeGreaterThanOrEqual(s.rss);
  expect(() => procMemoryMb(2 ** 30)).toThrow();
});
