// A step's input: A micro-batches of B rows, the task's examples first and, with replay, rows of a
// general-text corpus after them, in the int64 buffers the compiled step takes.

import { DataError } from '../data/dataError';
import { PreparedDataset } from '../data/preparedDataset';
import { StepBatch } from './trainRunner';
import { BatchCursor, CursorPosition } from './batchCursor';

/** How the B rows of a batch divide between the task and replayed general text. */
export interface BatchRows {
  task: number;
  replay: number;
  /** The replay share asked for (0: none). */
  ratio: number;
}

/** Replay: a share of every batch's rows comes from a general-text corpus (packed to T + 1 tokens). */
export function batchRows(batchSize: number, replay: { ratio: number } | undefined): BatchRows {
  const ratio = replay?.ratio ?? 0;
  if (!(ratio >= 0 && ratio < 1)) throw new RangeError(`replay ratio must be in [0, 1), got ${ratio}`);
  const Br = replay && ratio > 0 ? Math.max(1, Math.round(batchSize * ratio)) : 0;
  const Bt = batchSize - Br;
  if (Bt < 1) throw new RangeError(`a replay ratio of ${ratio} leaves no task rows in a batch of ${batchSize}`);
  return { task: Bt, replay: Br, ratio };
}

/** The replay corpus must be packed in sequences of T + 1 tokens. */
export function checkReplayCorpus(corpus: PreparedDataset, rows: BatchRows, T: number, log: (line: string) => void): void {
  const n = corpus.indices('train').length;
  const len = n ? corpus.exampleLength(corpus.indices('train')[0]) : 0;
  if (len !== T + 1) {
    throw new DataError({
      code: 'settings', file: corpus.dir, problem: `the replay corpus is packed in sequences of ${len} tokens; this run needs ${T + 1}`,
      fix: `prepare it again in sequences of ${T + 1} tokens[[ ({{seqLength}})]]`,
    });
  }
  log(`replay: ${rows.replay} of every ${rows.task + rows.replay} rows from ${n} general-text sequences`);
}

export interface BatchPosition extends CursorPosition {
  replay?: CursorPosition;
}

export class BatchSource {
  private readonly task: BatchCursor;
  private readonly replay: BatchCursor | null;
  private readonly batch: StepBatch;
  /** K steps' rows for a Loop run (created on first use). */
  private run: StepBatch | null = null;
  /** Tokens of one micro-batch: B x T. */
  private readonly rowTokens: number;

  constructor(
    data: PreparedDataset,
    replayCorpus: PreparedDataset | undefined,
    private readonly o: { rows: BatchRows; seqLen: number; accumulation: number; shuffle: boolean; seed: number },
    start?: BatchPosition,
  ) {
    const { rows, seqLen: T, accumulation: A } = o;
    this.rowTokens = (rows.task + rows.replay) * T;
    this.batch = { inputIds: new BigInt64Array(A * this.rowTokens), targets: new BigInt64Array(A * this.rowTokens) };
    // Data order depends only on (seed, epoch), so a resumed run continues with the same batches.
    this.task = new BatchCursor(data, 'train', { batchSize: rows.task, seqLength: T, shuffle: o.shuffle, seed: o.seed }, start);
    this.replay = rows.replay ? new BatchCursor(replayCorpus!, 'train', { batchSize: rows.replay, seqLength: T, shuffle: true, seed: o.seed + 1 }, start?.replay ?? undefined) : null;
  }

  /** Tokens in one step's batch (A x B x T). */
  get tokensPerStep(): number { return this.batch.inputIds.length; }

  /** The next step's A micro-batches, in the same buffers every time. */
  next(): StepBatch {
    const { inputIds: ids, targets } = this.batch;
    const Tn = this.rowTokens;
    for (let a = 0; a < this.o.accumulation; a++) {
      // Rows 0..Bt-1: the task; rows Bt..B-1: general text replayed against forgetting.
      const parts = this.replay ? [this.task.next(), this.replay.next()] : [this.task.next()];
      let at = a * Tn;
      for (const bt of parts) {
        for (let k = 0; k < bt.inputIds.length; k++, at++) { ids[at] = BigInt(bt.inputIds[k]); targets[at] = BigInt(bt.targets[k]); }
      }
    }
    return this.batch;
  }

  /**
   * The next k steps' batches one after another ([K, A, B, T] for a run of up to K steps through the
   * ONNX Loop), in the same buffers every time; rows of steps beyond k keep earlier values (not read).
   */
  nextSteps(k: number, K: number): StepBatch {
    if (K === 1) return this.next();
    const n = this.tokensPerStep;
    this.run ??= { inputIds: new BigInt64Array(K * n), targets: new BigInt64Array(K * n) };
    for (let j = 0; j < k; j++) {
      const b = this.next();
      this.run.inputIds.set(b.inputIds, j * n);
      this.run.targets.set(b.targets, j * n);
    }
    return this.run;
  }

  position(): BatchPosition { return { ...this.task.position(), replay: this.replay?.position() }; }
}
