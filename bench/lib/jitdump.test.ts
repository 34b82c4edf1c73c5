// Tests the jitdump reader on a file built here by the specification: code-load records become perf map lines,
// other records and a record cut short at the end are skipped.
import { expect, test } from "bun:test";
import { jitdumpPid, jitdumpToPerfMap } from "./jitdump.ts";

function header(): Uint8Array {
  const b = new Uint8Array(40);
  const v = new DataView(b.buffer);
  v.setUint32(0, 0x4a695444, true);
  v.setUint32(4, 1, true);
  v.setUint32(8, 40, true);
  return b;
}

function codeLoad(addr: bigint, size: bigint, name: string): Uint8Array {
  const n = new TextEncoder().encode(name);
  const total = 56 + n.length + 1 + 4; // name, NUL, then 4 bytes of "code"
  const b = new Uint8Array(total);
  const v = new DataView(b.buffer);
  v.setUint32(0, 0, true);
  v.setUint32(4, total, true);
  v.setBigUint64(32, addr, true);
  v.setBigUint64(40, size, true);
  b.set(n, 56);
  return b;
}

function other(): Uint8Array {
  const b = new Uint8Array(24);
  new DataView(b.buffer).setUint32(0, 2, true); // JIT_CODE_DEBUG_INFO
  new DataView(b.buffer).setUint32(4, 24, true);
  return b;
}

const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

test("code-load records become perf map lines; other records are skipped", () => {
  const file = concat(header(), codeLoad(0x7f00001000n, 0x180n, "JSC-FTL: respond#EB04wi"), other(), codeLoad(0x7f00002000n, 0x40n, "JSC-Thunk: CallTrampoline"));
  expect(jitdumpToPerfMap(file)).toBe("7f00001000 180 JSC-FTL: respond#EB04wi\n7f00002000 40 JSC-Thunk: CallTrampoline\n");
});

test("a record cut short by the process stopping ends the map; a non-jitdump file is refused", () => {
  const whole = codeLoad(0x1000n, 0x10n, "a");
  const cut = codeLoad(0x2000n, 0x10n, "b").subarray(0, 30);
  expect(jitdumpToPerfMap(concat(header(), whole, cut))).toBe("1000 10 a\n");
  expect(() => jitdumpToPerfMap(new Uint8Array(64))).toThrow("not a little-endian jitdump file");
});

test("the pid comes from JSC's file name and perf's", () => {
  expect(jitdumpPid("jit-2505-2504.dump")).toBe(2504);
  expect(jitdumpPid("jit-2504.dump")).toBe(2504);
  expect(jitdumpPid("perf-2504.map")).toBeUndefined();
});
