// Pieces of text -> token ids and the trained positions (the loss mask), in batches.
//
// The text is encoded in one pass, as the model will see it, and a token is trained when its characters
// overlap a trained piece: "Q: ...\nA: Paris" gives "A", ":", " Paris" with " Paris" trained although its
// space comes from the template. Labels follow the Hugging Face convention: aligned with the ids, the
// model shifts them; a position that is not trained has label -100.
import type { TextPiece, Tokenizer } from '../tokenizer';

export interface TrainPiece extends TextPiece {
  /** Its tokens count in the loss. */
  train: boolean;
}

export interface EncodedExample {
  ids: number[];
  /** Trained positions as [start, end) runs, flat: [s0, e0, s1, e1, ...]. */
  ranges: number[];
}

export interface ExampleText {
  pieces: readonly TrainPiece[];
  /** Ids before the text (BOS): never trained. */
  prefix: readonly number[];
  /** Ids after the text (EOS): always trained. */
  suffix: readonly number[];
}

export async function encodeExamples(tokenizer: Tokenizer, batch: readonly ExampleText[]): Promise<EncodedExample[]> {
  const encodings = await tokenizer.encodePiecesBatch(batch.map((b) => b.pieces));
  return encodings.map((enc, k) => {
    const { pieces, prefix, suffix } = batch[k]!;
    const ids = prefix.length ? [...prefix, ...enc.ids] : enc.ids;
    const trained = new Uint8Array(ids.length + suffix.length);
    for (let p = 0; p < pieces.length; p++) {
      if (pieces[p]!.train) trained.fill(1, prefix.length + enc.pieceTokens[2 * p]!, prefix.length + enc.pieceTokens[2 * p + 1]!);
    }
    for (let s = 0; s < suffix.length; s++) { ids.push(suffix[s]!); trained[ids.length - 1] = 1; }
    return { ids, ranges: runs(trained) };
  });
}

/** [start, end) runs of ones. */
export function runs(flags: ArrayLike<number>): number[] {
  const out: number[] = [];
  let start = -1;
  for (let i = 0; i < flags.length; i++) {
    if (flags[i] && start < 0) start = i;
    else if (!flags[i] && start >= 0) { out.push(start, i); start = -1; }
  }
  if (start >= 0) out.push(start, flags.length);
  return out;
}

/** Positions >= 1 inside the runs: the targets that count after the shift. */
export function trainedTargets(ranges: readonly number[]): number {
  let n = 0;
  for (let i = 0; i < ranges.length; i += 2) n += ranges[i + 1]! - Math.max(ranges[i]!, 1);
  return Math.max(0, n);
}

/** Labels (-100 outside the runs) for ids. */
export function labelsFor(ids: ArrayLike<number>, ranges: ArrayLike<number>): Int32Array {
  const labels = new Int32Array(ids.length).fill(-100);
  for (let r = 0; r < ranges.length; r += 2) for (let i = ranges[r]!; i < ranges[r + 1]!; i++) labels[i] = ids[i]!;
  return labels;
}
