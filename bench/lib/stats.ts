// Small statistics helpers for the bench: medians over rounds, ratios that tolerate missing references.
// Medians because a single noisy round (GC, a neighbour process) must not move the result.
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function ratio(value: number | undefined, reference: number | undefined): number | undefined {
  if (value === undefined || reference === undefined || !Number.isFinite(value) || !reference) return undefined;
  return value / reference;
}
