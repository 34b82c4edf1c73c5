// Reads the Prometheus text format our members write (/metrics) into plain samples for the console.
// Hand-written: the npm parsers are unmaintained, and ours need only name, labels and value (no timestamps, no exemplars).

export type Sample = { name: string; labels: Record<string, string>; value: number };

const ESCAPES: Record<string, string> = { "\\": "\\", '"': '"', n: "\n" };

/** One `name{a="x",b="y"} value` line; undefined for a line that is not a sample (comments, blanks, garbage). */
function parseLine(line: string): Sample | undefined {
  let i = 0;
  while (i < line.length && line[i] !== "{" && line[i] !== " " && line[i] !== "\t") i++;
  const name = line.slice(0, i);
  if (name === "") return undefined;
  const labels: Record<string, string> = {};
  if (line[i] === "{") {
    i++;
    for (;;) {
      while (line[i] === " " || line[i] === ",") i++;
      if (line[i] === "}") { i++; break; }
      const eq = line.indexOf("=", i);
      if (eq < 0 || line[eq + 1] !== '"') return undefined;
      const key = line.slice(i, eq).trim();
      let value = "";
      let j = eq + 2;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === "\\" && j + 1 < line.length) {
          const next = line[++j]!;
          value += ESCAPES[next] ?? `\\${next}`;
        } else value += line[j];
      }
      if (j >= line.length) return undefined;
      labels[key] = value;
      i = j + 1;
    }
  }
  const rest = line.slice(i).trim().split(/\s+/)[0] ?? "";
  const value = rest === "+Inf" ? Infinity : rest === "-Inf" ? -Infinity : Number(rest);
  if (rest === "" || Number.isNaN(value) && rest !== "NaN") return undefined;
  return { name, labels, value };
}

/** Every sample in a scrape, in order; lines that don't parse are skipped (a console shows what it can). */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const s = parseLine(line);
    if (s !== undefined) out.push(s);
  }
  return out;
}
