// Tests the perf sample split on `perf script` text in perf's own layout: kernel time by system call, runtime
// time with no JavaScript on the stack, and JavaScript functions (named, thunks skipped), self and inclusive.
import { expect, test } from "bun:test";
import { parsePerfScript, renderSplit, splitSamples } from "./perf-split.ts";

const SCRIPT = `bun.exe  2504 
	ffffffff8a1 tcp_sendmsg ([kernel.kallsyms])
	ffffffff8a2 __x64_sys_sendto ([kernel.kallsyms])
	ffffffff8a3 do_syscall_64 ([kernel.kallsyms])
	         187f5c4 [unknown] (/bun/bin/bun.exe)

bun.exe  2504 
	    7f2ba2c30c47 JSC-Thunk: CallTrampoline (/tmp/perf-2504.map)
	    7f2ba2c1ebb6 JSC-FTL: respond#EB04wi (/tmp/perf-2504.map)
	    7f2ba2c2efab JSC-FTL: onAppData#CAw5vA (/tmp/perf-2504.map)
	         187f5c4 [unknown] (/bun/bin/bun.exe)

bun.exe  2504 
	         1a45651 [unknown] (/bun/bin/bun.exe)
	    7f2ba2c2efab JSC-FTL: onAppData#CAw5vA (/tmp/perf-2504.map)
	         187f5c4 [unknown] (/bun/bin/bun.exe)

bun.exe  2504 
	         1a45651 [unknown] (/bun/bin/bun.exe)
	         187f5c4 [unknown] (/bun/bin/bun.exe)

bun.exe  2504 
	    7f2ba2c30c47 JSC-FTL: #EOqmay (/tmp/perf-2504.map)
	         187f5c4 [unknown] (/bun/bin/bun.exe)
`;

test("each sample goes to one group: a system call, the runtime outside JS, or the nearest named JS function", () => {
  const samples = parsePerfScript(SCRIPT);
  expect(samples).toHaveLength(5);
  expect(samples[1]![1]).toEqual({ sym: "JSC-FTL: respond#EB04wi", dso: "/tmp/perf-2504.map" });
  const s = splitSamples(samples);
  expect(Object.fromEntries(s.self)).toEqual({ "kernel: sendto": 0.2, "js: respond": 0.2, "js: onAppData": 0.2, "runtime (no JS on the stack)": 0.2, "js: (anonymous #EOqmay)": 0.2 });
  // onAppData is on the stack of two samples, respond of one.
  expect(s.inclusive).toEqual([["onAppData", 0.4], ["respond", 0.2], ["(anonymous #EOqmay)", 0.2]]);
});

test("the markdown gives the totals by kind first", () => {
  const md = renderSplit("sidecar-b", splitSamples(parsePerfScript(SCRIPT)));
  expect(md).toContain("## sidecar-b: 5 samples");
  expect(md).toContain("kernel 20.0 % · runtime with no JS on the stack 20.0 % · JavaScript and the native calls it makes 60.0 %");
  expect(md).toContain("| onAppData | 40.0 % |");
});
