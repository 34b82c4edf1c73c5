// Splits `perf script` samples of one Bun process into where its CPU went: the kernel (by system call), the runtime
// with no JavaScript on the stack (event loop, TLS, socket I/O), and each JavaScript function with the native calls
// it makes. Unlike `--cpu-prof`, perf also sees the time outside JavaScript (see ../README.md, "Profiling").

export type Frame = { readonly sym: string; readonly dso: string };
export type Split = {
  readonly samples: number;
  /** Share of samples per group, largest first: "kernel: sendto", "runtime (no JS on the stack)", "js: respond", … */
  readonly self: ReadonlyArray<readonly [string, number]>;
  /** Share of samples with this JavaScript function anywhere on the stack (callees included), largest first. */
  readonly inclusive: ReadonlyArray<readonly [string, number]>;
};

const FRAME = /^\s*[0-9a-f]+\s+(.*?)\s+\(([^)]*)\)\s*$/;
/** JSC's names for compiled JavaScript; thunks, inline caches and OSR exits are plumbing, not functions. */
const JS_FUNCTION = /^JSC-(?:FTL|DFG|Baseline|LLInt): (.+?)(?:#\w+)?$/;
const SYSCALL = /^(?:__x64_sys_|__ia32_sys_)(\w+)$/;

/** Samples of `perf script -F comm,tid,ip,sym,dso` (call chains recorded with -g): one frame list each, leaf first. */
export function parsePerfScript(text: string): Frame[][] {
  const samples: Frame[][] = [];
  let cur: Frame[] | undefined;
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const m = FRAME.exec(line);
    if (m !== null && /^\s/.test(line)) {
      cur?.push({ sym: m[1]!, dso: m[2]! });
    } else {
      cur = [];
      samples.push(cur);
    }
  }
  return samples.filter((s) => s.length > 0);
}

/** A compiled function's name; JSC names an anonymous one by its hash alone ("JSC-FTL: #EOqmay"). */
function jsName(f: Frame): string | undefined {
  const name = JS_FUNCTION.exec(f.sym)?.[1];
  return name?.startsWith("#") === true ? `(anonymous ${name})` : name;
}

function groupOf(frames: readonly Frame[]): string {
  if (frames[0]!.dso.includes("kernel")) {
    for (const f of frames) {
      const s = SYSCALL.exec(f.sym);
      if (s !== null) return `kernel: ${s[1]}`;
      if (f.sym.startsWith("asm_exc_page_fault")) return "kernel: page faults";
    }
    return "kernel: other (interrupts, scheduling)";
  }
  for (const f of frames) {
    const name = jsName(f);
    if (name !== undefined) return `js: ${name}`;
  }
  return "runtime (no JS on the stack)";
}

export function splitSamples(samples: readonly (readonly Frame[])[]): Split {
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const frames of samples) {
    const g = groupOf(frames);
    self.set(g, (self.get(g) ?? 0) + 1);
    const seen = new Set<string>();
    for (const f of frames) {
      const name = jsName(f);
      if (name !== undefined && !seen.has(name)) {
        seen.add(name);
        inclusive.set(name, (inclusive.get(name) ?? 0) + 1);
      }
    }
  }
  const n = samples.length;
  const shares = (m: Map<string, number>) => [...m].map(([k, v]) => [k, n === 0 ? 0 : v / n] as const).sort((a, b) => b[1] - a[1]);
  return { samples: n, self: shares(self), inclusive: shares(inclusive) };
}

/** Totals by kind (kernel, runtime, JavaScript), then the top groups and the top inclusive functions, as markdown. */
export function renderSplit(name: string, s: Split, top = 25): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  const sum = (prefix: string) => s.self.filter(([k]) => k.startsWith(prefix)).reduce((a, [, v]) => a + v, 0);
  const lines = [
    `## ${name}: ${s.samples} samples`,
    "",
    `kernel ${pct(sum("kernel"))} · runtime with no JS on the stack ${pct(sum("runtime"))} · JavaScript and the native calls it makes ${pct(sum("js:"))}`,
    "",
    "| self (leaf's group) | share |",
    "|---|---:|",
    ...s.self.slice(0, top).map(([k, v]) => `| ${k} | ${pct(v)} |`),
    "",
    "| JS function, callees included | share |",
    "|---|---:|",
    ...s.inclusive.slice(0, top).map(([k, v]) => `| ${k} | ${pct(v)} |`),
  ];
  return `${lines.join("\n")}\n`;
}
