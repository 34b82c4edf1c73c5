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

/** Where the median of the values lies at `coverage` (at least the level asked for): the sign test's interval. */
export type MedianInterval = { readonly lo: number; readonly hi: number; readonly coverage: number };

/**
 * A distribution-free confidence interval for the median: the k-th smallest and k-th largest value, k the largest
 * for which P(Binomial(n, 1/2) < k) <= (1 - level) / 2. Undefined when there are too few values for the level
 * (fewer than 6 at 95 %). Why this one: per-round ratios on this VM are skewed and heavy-tailed (one slow stretch
 * puts a round at 1.9 among rounds at 1.2–1.4), and it assumes nothing about their shape. 12 values give the 3rd
 * smallest to the 3rd largest at 96.1 %.
 */
export function medianInterval(values: readonly number[], level = 0.95): MedianInterval | undefined {
  const n = values.length;
  const tail = (1 - level) / 2;
  let below = 0; // P(X < k)
  let coef = 1; // C(n, k)
  let k = 0;
  for (; k < n; k++) {
    const next = below + coef * 0.5 ** n;
    if (next > tail) break;
    below = next;
    coef = (coef * (n - k)) / (k + 1);
  }
  if (k === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  return { lo: s[k - 1]!, hi: s[n - k]!, coverage: 1 - 2 * below };
}
