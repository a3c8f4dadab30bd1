import { DataError } from '../data/dataError';
import { PreparedDataset } from '../data/preparedDataset';

/** Longest input a batch needs: the longest training or validation example minus one (inputs are tokens[:-1]). */
export function sequenceLength(ds: PreparedDataset, maxPositions: number): number {
  let longest = 2;
  for (const split of ['train', 'validation'] as const) for (const e of ds.indices(split)) longest = Math.max(longest, ds.exampleLength(e));
  if (longest - 1 > maxPositions) {
    throw new DataError({
      code: 'too-long', file: ds.dir,
      problem: `the longest training example has ${longest} tokens but the model takes at most ${maxPositions + 1}`,
      fix: `prepare the data again with a maximum length of ${maxPositions + 1}[[ ({{maxLength}})]]`,
    });
  }
  return longest - 1;
}
