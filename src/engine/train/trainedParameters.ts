// Which parameters a run trains and the weights it starts from: the model's own minus the frozen
// ones or, with LoRA, low-rank adapters beside a model that stays frozen.

import { ParamShape } from '../models/nn';
import { LoraConfig, LoraTarget, initLora, loraParams, loraTargets, mergeLora } from './lora';
import { TrainStepRunner } from './trainRunner';
import { TrainJob } from './trainJob';

export class TrainedParameters {
  private constructor(
    readonly trainable: ParamShape[],
    readonly frozen: ParamShape[],
    /** What a checkpoint holds: every model parameter and the adapters. */
    readonly all: ParamShape[],
    readonly initial: Map<string, Float32Array>,
    readonly loraTargets: LoraTarget[],
    private readonly lora: LoraConfig | undefined,
  ) {}

  static of(job: TrainJob): TrainedParameters {
    const { lora } = job;
    const s = trainedShapes(job);
    const initial = lora ? new Map([...job.weights, ...initLora(s.loraTargets, lora.rank, job.args.seed)]) : job.weights;
    return new TrainedParameters(s.trainable, s.frozen, s.all, initial, s.loraTargets, lora);
  }

  /**
   * The initial weights with the runner's trained values over them: views of its buffers (float32), so
   * valid until its next run (which updates them in place); copy what must outlive that.
   */
  current(runner: TrainStepRunner): Map<string, Float32Array> {
    const w = new Map(this.initial);
    for (const [n, v] of runner.params()) w.set(n, v instanceof Float32Array ? v : Float32Array.from(v));
    return w;
  }

  /** With LoRA the adapters merged into the weights they adapt (what evaluation, generation and export use). */
  merged(weights: Map<string, Float32Array>): Map<string, Float32Array> {
    return this.lora ? mergeLora(weights, this.loraTargets, this.lora) : weights;
  }
}

/** The shapes of what a run trains and what it feeds frozen, without any weights (the memory estimate uses them too). */
export function trainedShapes(job: Pick<TrainJob, 'model' | 'lora' | 'isFrozen'>): { trainable: ParamShape[]; frozen: ParamShape[]; all: ParamShape[]; loraTargets: LoraTarget[] } {
  const { model, lora } = job;
  const targets = lora ? loraTargets(model, lora) : [];
  const adapterShapes = lora ? loraParams(targets, lora.rank) : [];
  const isFrozen = lora ? () => true : job.isFrozen ?? (() => false);
  const trainable = [...model.params.filter((p) => !isFrozen(p.name)), ...adapterShapes];
  const frozen = model.params.filter((p) => isFrozen(p.name));
  if (!trainable.length) throw new Error('every parameter is frozen: nothing to train');
  return { trainable, frozen, all: [...model.params, ...adapterShapes], loraTargets: targets };
}
