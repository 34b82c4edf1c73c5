// Turns the config's Duration strings ("250ms", "5s", "2m") into milliseconds.
// Kept apart from the schema so compile steps and validators share one reading of the unit suffixes.

const UNIT_MS = { ms: 1, s: 1000, m: 60_000 } as const;
const DURATION = /^(\d+)(ms|s|m)$/;

/** Milliseconds for a Duration string; throws on anything the schema would also reject. */
export function parseDuration(s: string): number {
  const m = DURATION.exec(s);
  if (!m) throw new Error(`invalid duration "${s}": must be like 250ms, 5s or 2m`);
  const value = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  if (!Number.isSafeInteger(value)) throw new Error(`invalid duration "${s}": too large`);
  return value;
}
