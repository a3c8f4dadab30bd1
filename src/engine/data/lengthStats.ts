// Token-length statistics of a set of examples: counts, p50/p95/max, the trained (answer) share.
import type { LengthStats } from './preparedDataset';

/** `lengths[i]` tokens and `trained[i]` counted targets of example i, over the examples `pick` keeps. */
export function lengthStats(lengths: Uint32Array, trained: Uint32Array, pick: (i: number) => boolean = () => true): LengthStats {
  const kept = new Uint32Array(lengths.length);
  let count = 0;
  let tokens = 0;
  let targets = 0;
  for (let i = 0; i < lengths.length; i++) {
    if (!pick(i)) continue;
    kept[count++] = lengths[i]!;
    tokens += lengths[i]!;
    targets += trained[i]!;
  }
  const sorted = kept.subarray(0, count).sort();
  // nearest-rank percentile
  const pct = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]! : 0);
  return {
    examples: sorted.length,
    tokens,
    trainedTokens: targets,
    trainedShare: tokens ? Math.round((targets / tokens) * 1e4) / 1e4 : 0,
    p50: pct(0.5),
    p95: pct(0.95),
    max: sorted.length ? sorted[sorted.length - 1]! : 0,
    mean: sorted.length ? Math.round((tokens / sorted.length) * 10) / 10 : 0,
  };
}
