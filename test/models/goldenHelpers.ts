// Shared by the model tests: nested JSON arrays, the HF label convention, tensor-relative error.

import assert from 'node:assert/strict';

export type Nested = number | Nested[];
export const flat = (x: Nested): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x]);

/** HF labels (aligned with input_ids, shifted inside the loss) -> our targets: targets[t] = labels[t+1], last -100. */
export function hfTargets(labels: number[][]): BigInt64Array {
  return BigInt64Array.from(labels.flatMap((row) => [...row.slice(1), -100]), BigInt);
}

/** Worst |ours - ref| / max|ref| over a tensor (relative to the tensor's scale). */
export function relErr(ours: ArrayLike<number>, ref: ArrayLike<number>): number {
  assert.equal(ours.length, ref.length, 'tensor sizes differ');
  let diff = 0, scale = 0;
  for (let k = 0; k < ref.length; k++) {
    const d = Math.abs(ours[k] - ref[k]);
    diff = Number.isNaN(d) ? Infinity : Math.max(diff, d);
    scale = Math.max(scale, Math.abs(ref[k]));
  }
  return diff / Math.max(scale, 1e-30);
}
