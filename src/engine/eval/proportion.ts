// A measured fraction with its counts and a 95% interval, so every accuracy figure can be read as
// "k of n, somewhere between low and high" rather than as a bare percentage.

export interface Proportion {
  /** Items right; fractional when an item's score is a mean over samples (see completionAccuracy). */
  correct: number;
  total: number;
  /** correct / total. */
  fraction: number;
  /** 95% Wilson score interval, within [0, 1]. */
  low: number;
  high: number;
}

/** The 97.5% quantile of the standard normal: a two-sided 95% interval. */
export const Z_95 = 1.959964;

/**
 * Wilson score interval for `correct` successes in `total` trials (Wilson 1927). Unlike the normal
 * (Wald) interval it does not collapse to a point at 0/n or n/n and keeps its coverage for the small
 * n of an evaluation set. `correct` may be fractional: the formula only needs p = correct / total.
 */
export function wilsonInterval(correct: number, total: number, z = Z_95): { low: number; high: number } {
  const p = correct / total;
  const z2n = (z * z) / total;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z * Math.sqrt(p * (1 - p) / total + z2n / (4 * total))) / (1 + z2n);
  // Clamp rounding only (at p = 0 the low end is 0 up to an ulp).
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/**
 * The proportion correct/total with its Wilson interval; null when total is 0. There is no fraction
 * of nothing, and a 0 would be shown as "0% accurate", a measured failure; callers show "no items".
 */
export function proportion(correct: number, total: number): Proportion | null {
  if (!Number.isInteger(total) || total < 0) throw new Error(`a proportion needs a whole number of items, got total ${total}`);
  if (!(correct >= 0 && correct <= total)) throw new Error(`a proportion needs 0 <= correct <= total, got ${correct} of ${total}`);
  if (total === 0) return null;
  return { correct, total, fraction: correct / total, ...wilsonInterval(correct, total) };
}
