// Test names for test.each/describe.each the way bun:test (after Jest) spells them: printf-style %s %d %i %f
// %j %o %p, %# for the row index, %% for a percent sign; row objects also fill "$key" placeholders.

function show(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "function") return `[Function ${v.name || "anonymous"}]`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

export function formatEachName(template: string, args: unknown[], index: number): string {
  let next = 0;
  let name = template.replace(/%([sdifjop#%])/g, (whole, c: string) => {
    if (c === "%") return "%";
    if (c === "#") return String(index);
    if (next >= args.length) return whole;
    const v = args[next++];
    switch (c) {
      case "s":
        return typeof v === "string" ? v : show(v);
      case "d":
      case "i":
        return String(c === "i" ? Math.trunc(Number(v)) : Number(v));
      case "f":
        return String(Number(v));
      default:
        return show(v);
    }
  });
  const row = args[0];
  if (args.length === 1 && typeof row === "object" && row !== null) {
    name = name.replace(/\$([A-Za-z_][\w.]*)/g, (whole, key: string) => {
      let v: unknown = row;
      for (const k of key.split(".")) v = typeof v === "object" && v !== null ? (v as Record<string, unknown>)[k] : undefined;
      return v === undefined ? whole : show(v);
    });
  }
  return name;
}
