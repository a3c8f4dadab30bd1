// Validation loss: the model's forward pass and cross-entropy, no backward, over a whole split.
// Parameters are inputs, so the same session evaluates the weights of any step.

import * as ort from 'onnxruntime-node';
import { Graph, Value } from '../graph/graph';
import { GraphBuilder } from '../graph/builder';
import { toModelProto } from '../graph/serialize';
import { CausalLM } from '../models/causalLM';
import { NnContext, crossEntropy } from '../models/nn';
import { CompiledSession, SessionOptions, createSession, tensor } from '../runtime/session';
import { PreparedDataset, Split } from '../data/preparedDataset';
import { batches } from '../data/batcher';

/** The forward pass and the summed cross-entropy of one [B, T] batch; weights are inputs named as the model's parameters. */
export function evalLossGraph(model: CausalLM, batchSize: number, seqLen: number): { graph: Graph; ids: Value; targets: Value; loss: Value; count: Value } {
  const b = new GraphBuilder(new Graph('eval_loss'));
  const params = new Map(model.params.map((p) => [p.name, b.input(p.name, 'float32', p.shape)]));
  const ids = b.input('input_ids', 'int64', [batchSize, seqLen]);
  const targets = b.input('targets', 'int64', [batchSize, seqLen]);
  const c: NnContext = { b, dtype: 'float32', decompose: false, dropoutKey: null, dropoutSites: 0 };
  const { loss, count } = crossEntropy(c, model.forward(c, (n) => params.get(n)!, ids), targets);
  b.graph.outputs = [loss, count];
  return { graph: b.graph, ids, targets, loss, count };
}

export class LossEvaluator {
  private constructor(
    private readonly model: CausalLM,
    private readonly compiled: CompiledSession,
    private readonly names: { ids: string; targets: string; loss: string; count: string },
    readonly batchSize: number,
    readonly seqLen: number,
  ) {}

  static async create(model: CausalLM, batchSize: number, seqLen: number, o: SessionOptions = {}): Promise<LossEvaluator> {
    const { graph, ids, targets, loss, count } = evalLossGraph(model, batchSize, seqLen);
    const compiled = await createSession(toModelProto(graph), o);
    return new LossEvaluator(model, compiled, { ids: ids.name, targets: targets.name, loss: loss.name, count: count.name }, batchSize, seqLen);
  }

  /** Token-weighted mean loss over a split (NaN when it has no counted token). */
  async evaluate(weights: ReadonlyMap<string, Float32Array | Float64Array>, data: PreparedDataset, split: Split): Promise<{ loss: number; tokens: number }> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const p of this.model.params) {
      const w = weights.get(p.name);
      if (!w) throw new Error(`no weights for '${p.name}'`);
      feeds[p.name] = tensor('float32', p.shape, w instanceof Float32Array ? w : Float32Array.from(w));
    }
    let total = 0, tokens = 0;
    for (const bt of batches(data, split, { batchSize: this.batchSize, seqLength: this.seqLen })) {
      feeds[this.names.ids] = tensor('int64', [this.batchSize, this.seqLen], BigInt64Array.from(bt.inputIds, BigInt));
      feeds[this.names.targets] = tensor('int64', [this.batchSize, this.seqLen], BigInt64Array.from(bt.targets, BigInt));
      const out = await this.compiled.session.run(feeds);
      const n = Number((out[this.names.count].data as Float32Array)[0]);
      total += Number((out[this.names.loss].data as Float32Array)[0]) * n;
      tokens += n;
    }
    return { loss: tokens ? total / tokens : NaN, tokens };
  }

  async release(): Promise<void> { await this.compiled.session.release(); }
}
