// Validation loss every evalSteps steps and at the end of a run: eval_metrics.jsonl, the best weights
// so far in best/, and early stopping after earlyStoppingPatience evaluations without a better loss.

import { appendFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RUN_FILES } from '../runs/runFolder';
import { readCheckpointWeights, saveCheckpoint } from './checkpoint';
import { LossEvaluator } from './evalLoss';
import { TrainStepRunner } from './trainRunner';
import { TrainedParameters } from './trainedParameters';
import { TrainingPlan } from './trainingPlan';
import { EvalMetrics, TrainJob } from './trainJob';

export class Validation {
  best: { step: number; loss: number } | null = null;
  private sinceBest = 0;
  /** The last evaluation made earlyStoppingPatience in a row without a better loss. */
  stoppedEarly = false;

  private constructor(
    private readonly job: TrainJob,
    private readonly params: TrainedParameters,
    private readonly runner: TrainStepRunner,
    /** Null when evaluation is off (evalSteps 0 or no validation split). */
    private readonly evaluator: LossEvaluator | null,
    private readonly metricsPath: string,
    private readonly bestDir: string,
  ) {}

  /** A new run starts a new eval_metrics.jsonl; a resumed one appends to it. */
  static async create(job: TrainJob, params: TrainedParameters, plan: TrainingPlan, runner: TrainStepRunner, resumed: boolean, log: (line: string) => void): Promise<Validation> {
    const { args, data } = job;
    const nVal = data.indices('validation').length;
    if (args.evalSteps > 0 && !nVal) log('no validation split: validation loss and early stopping are off');
    const evaluator = args.evalSteps > 0 && nVal ? await LossEvaluator.create(job.model, plan.batchSize, plan.seqLen, { device: args.device, threads: args.threads || undefined }) : null;
    const metricsPath = join(job.runDir, RUN_FILES.evalMetrics);
    if (!resumed && existsSync(metricsPath)) rmSync(metricsPath);
    return new Validation(job, params, runner, evaluator, metricsPath, join(job.runDir, RUN_FILES.best));
  }

  /** Steps between evaluations (0: evaluation is off): a run of several steps ends on these. */
  get interval(): number { return this.evaluator ? this.job.args.evalSteps : 0; }

  /** An evaluation falls on this step (the one after the last step is end()'s). */
  isDue(step: number, totalSteps: number): boolean {
    return this.evaluator !== null && step % this.job.args.evalSteps === 0 && step < totalSteps;
  }

  async evaluate(step: number): Promise<void> {
    if (!this.evaluator) return;
    const weights = this.params.current(this.runner);
    const r = await this.evaluator.evaluate(this.params.merged(weights), this.job.data, 'validation');
    const improved = this.best === null || r.loss < this.best.loss;
    if (improved) {
      this.best = { step, loss: r.loss };
      this.sinceBest = 0;
      await saveCheckpoint(this.bestDir, this.params.all, weights, { step, loss: r.loss, split: 'validation' });
    } else this.sinceBest++;
    const m: EvalMetrics = { step, split: 'validation', loss: r.loss, tokens: r.tokens, best: improved };
    appendFileSync(this.metricsPath, JSON.stringify(m) + '\n');
    this.job.onEval?.(m);
    const patience = this.job.args.earlyStoppingPatience;
    if (patience > 0 && this.sinceBest >= patience) this.stoppedEarly = true;
  }

  /** The final evaluation, unless early stopping or a stop request ended the run. */
  async end(step: number, stopped: boolean): Promise<void> {
    if (this.evaluator && !this.stoppedEarly && !stopped) await this.evaluate(step);
  }

  /** best/'s weights when early stopping ended the run (they are its result), else null. */
  async bestWeightsIfStopped(): Promise<Map<string, Float32Array> | null> {
    return this.stoppedEarly && this.best ? readCheckpointWeights(this.bestDir) : null;
  }

  async release(): Promise<void> { await this.evaluator?.release(); }
}
