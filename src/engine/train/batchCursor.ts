// An endless, resumable walk over a split's batches: epoch after epoch, each in the order that
// (seed, epoch) decides, from any saved position.

import { Batch, batches } from '../data/batcher';
import { PreparedDataset, Split } from '../data/preparedDataset';

export interface CursorPosition { epoch: number; batchInEpoch: number; }

export class BatchCursor {
  private stream: Generator<Batch>;
  epoch: number;
  batchInEpoch = 0;

  constructor(
    private readonly data: PreparedDataset,
    private readonly split: Split,
    private readonly o: { batchSize: number; seqLength: number; shuffle: boolean; seed: number },
    start: CursorPosition = { epoch: 0, batchInEpoch: 0 },
  ) {
    if (!data.indices(split).length) throw new Error(`${data.dir} has no ${split} examples`);
    this.epoch = start.epoch;
    this.stream = this.open();
    while (this.batchInEpoch < start.batchInEpoch) this.next();
  }

  private open(): Generator<Batch> {
    return batches(this.data, this.split, { ...this.o, epoch: this.epoch });
  }

  next(): Batch {
    let n = this.stream.next();
    if (n.done) {
      this.epoch++;
      this.batchInEpoch = 0;
      this.stream = this.open();
      n = this.stream.next();
    }
    this.batchInEpoch++;
    return n.value!;
  }

  position(): CursorPosition { return { epoch: this.epoch, batchInEpoch: this.batchInEpoch }; }
}
