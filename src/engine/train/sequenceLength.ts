import { PreparedDataset } from '../data/preparedDataset';

/** Longest input a batch needs: the longest training or validation example minus one (inputs are tokens[:-1]). */
export function sequenceLength(ds: PreparedDataset, maxPositions: number): number {
  let longest = 2;
  for (const split of ['train', 'validation'] as const) for (const e of ds.indices(split)) longest = Math.max(longest, ds.exampleLength(e));
  if (longest - 1 > maxPositions) {
    throw new Error(`the longest training example has ${longest} tokens but the model takes at most ${maxPositions + 1}; prepare the data with --max-length ${maxPositions + 1}`);
  }
  return longest - 1;
}
