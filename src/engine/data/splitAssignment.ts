// The train/validation/test split from a seed: examples are grouped by their prompt key (the same
// question never lands in two splits), groups are shuffled with the seed, and the first groups fill
// test, then validation, up to their share of the examples; the rest is train. Same data and seed,
// same split, on any machine.
import { uniformRng } from '../random';

export interface SplitFractions {
  validation: number;
  test: number;
}

/** Per example: 0 train, 1 validation, 2 test. */
export function assignSplits(promptKeys: Float64Array, fractions: SplitFractions, seed: number): Uint8Array {
  const n = promptKeys.length;
  const out = new Uint8Array(n);
  if (n === 0) return out;
  const sorted = Float64Array.from(promptKeys).sort();
  // distinct keys (groups) and their sizes, in place at the front of `sorted`
  const sizes = new Uint32Array(n);
  let g = 0;
  for (let i = 0; i < n; i++) {
    if (i > 0 && sorted[i] === sorted[g - 1]) { sizes[g - 1]!++; continue; }
    sorted[g] = sorted[i]!;
    sizes[g++] = 1;
  }
  const groupKeys = sorted.subarray(0, g);
  const order = new Uint32Array(g);
  for (let i = 0; i < g; i++) order[i] = i;
  const rand = uniformRng(seed);
  for (let i = g - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  const target = (f: number) => Math.round(n * f);
  const wantTest = target(fractions.test);
  const wantValidation = target(fractions.validation);
  const splitOfGroup = new Uint8Array(g);
  let test = 0;
  let validation = 0;
  for (const k of order) {
    if (test < wantTest && test + validation + sizes[k]! < n) { splitOfGroup[k] = 2; test += sizes[k]!; }
    else if (validation < wantValidation && test + validation + sizes[k]! < n) { splitOfGroup[k] = 1; validation += sizes[k]!; }
  }
  for (let i = 0; i < n; i++) out[i] = splitOfGroup[lowerBound(groupKeys, promptKeys[i]!)]!;
  return out;
}

function lowerBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
