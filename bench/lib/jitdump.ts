// Reads a JavaScriptCore jitdump file (BUN_JSC_useJITDump) into perf's map format, so `perf report`/`perf script`
// name JIT-compiled JavaScript (`JSC-FTL: respond#…`) instead of printing bare addresses.
// Format: https://github.com/torvalds/linux/blob/master/tools/perf/Documentation/jitdump-specification.txt

const JIT_CODE_LOAD = 0;
const HEADER_MAGIC = 0x4a695444; // "JiTD" read as little-endian

/** One `perf-<pid>.map` line per code-load record: "<start hex> <size hex> <name>". */
export function jitdumpToPerfMap(buf: Uint8Array): string {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.byteLength < 40 || v.getUint32(0, true) !== HEADER_MAGIC) throw new Error("not a little-endian jitdump file");
  const lines: string[] = [];
  const decoder = new TextDecoder();
  let off = v.getUint32(8, true); // header size
  while (off + 16 <= buf.byteLength) {
    const id = v.getUint32(off, true);
    const size = v.getUint32(off + 4, true);
    if (size < 16 || off + size > buf.byteLength) break; // a record still being written when the process stopped
    if (id === JIT_CODE_LOAD) {
      // After the record header (16 bytes): pid, tid (u32 each), vma, code_addr, code_size, code_index (u64 each), name.
      const codeAddr = v.getBigUint64(off + 32, true);
      const codeSize = v.getBigUint64(off + 40, true);
      const nameStart = off + 56;
      let nameEnd = nameStart;
      while (nameEnd < off + size && buf[nameEnd] !== 0) nameEnd++;
      lines.push(`${codeAddr.toString(16)} ${codeSize.toString(16)} ${decoder.decode(buf.subarray(nameStart, nameEnd))}`);
    }
    off += size;
  }
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

/** The pid a jitdump file belongs to: JSC names them jit-<n>-<pid>.dump (perf's own convention is jit-<pid>.dump). */
export function jitdumpPid(fileName: string): number | undefined {
  const m = /^jit-(?:\d+-)?(\d+)\.dump$/.exec(fileName);
  return m === null ? undefined : Number(m[1]);
}
