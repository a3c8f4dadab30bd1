// Batches for the trainer: [B, T] next-token pairs from a prepared dataset, in file order or in a
// seeded shuffle per epoch. An example of n tokens gives inputs tokens[:-1] and targets labels[1:]
// (n - 1 positions); shorter rows are padded (pad id in, -100 out, mask 0).
import { stepKey, uniformRng } from '../random';
import type { PreparedDataset, Split } from './preparedDataset';

export interface BatchOptions {
  batchSize: number;
  /** Fixed T (a graph with static shapes); default: the longest row of each batch. */
  seqLength?: number;
  /** Shuffle with seed and epoch (default false: file order). */
  shuffle?: boolean;
  seed?: number;
  epoch?: number;
  /** Leave out the last batch when it has fewer than batchSize rows (default false: pad it with empty rows). */
  dropLast?: boolean;
  /** Default: the tokenizer's pad id, else its EOS, else 0 (padded positions are never counted). */
  padId?: number;
}

export interface Batch {
  batchSize: number;
  seqLength: number;
  /** [B, T] row-major: tokens[:-1] of each example, then padding. */
  inputIds: Int32Array;
  /** [B, T]: labels[1:] (the next token where trained), -100 elsewhere and on padding. */
  targets: Int32Array;
  /** [B, T]: 1 on real input positions. */
  attentionMask: Uint8Array;
  /** Global example indices of the rows (-1 for an empty padding row). */
  examples: Int32Array;
  /** Targets that count (not -100). */
  countedTargets: number;
}

/** The order in which a split's examples are visited in an epoch. */
export function epochOrder(ds: PreparedDataset, split: Split, o: Pick<BatchOptions, 'shuffle' | 'seed' | 'epoch'> = {}): Uint32Array {
  const order = Uint32Array.from(ds.indices(split));
  if (o.shuffle) {
    const rand = uniformRng(stepKey(o.seed ?? 0, o.epoch ?? 0));
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
  }
  return order;
}

export function* batches(ds: PreparedDataset, split: Split, o: BatchOptions): Generator<Batch> {
  const B = o.batchSize;
  if (!Number.isInteger(B) || B < 1) throw new RangeError(`batchSize must be a positive integer, got ${B}`);
  const pad = o.padId ?? ds.manifest.tokenizer.padId ?? ds.manifest.tokenizer.eosId ?? 0;
  const order = epochOrder(ds, split, o);
  for (let start = 0; start < order.length; start += B) {
    const rows = order.subarray(start, start + B);
    if (rows.length < B && o.dropLast) return;
    let T = o.seqLength ?? 1;
    if (o.seqLength === undefined) for (const e of rows) T = Math.max(T, ds.exampleLength(e) - 1);
    const inputIds = new Int32Array(B * T).fill(pad);
    const targets = new Int32Array(B * T).fill(-100);
    const attentionMask = new Uint8Array(B * T);
    const examples = new Int32Array(B).fill(-1);
    let counted = 0;
    for (let r = 0; r < rows.length; r++) {
      const e = rows[r]!;
      const { inputIds: ids, labels } = ds.example(e);
      const n = ids.length - 1;
      if (n > T) {
        const { source, line } = ds.origin(e);
        throw new RangeError(`example ${e} (${source}:${line}) has ${ids.length} tokens, more than seqLength + 1 = ${T + 1}; prepare the data with a maximum length <= ${T + 1}`);
      }
      examples[r] = e;
      inputIds.set(ids.subarray(0, n), r * T);
      targets.set(labels.subarray(1), r * T);
      attentionMask.fill(1, r * T, r * T + n);
      for (let t = 1; t <= n; t++) if (labels[t] !== -100) counted++;
    }
    yield { batchSize: B, seqLength: T, inputIds, targets, attentionMask, examples, countedTargets: counted };
  }
}
