// The training step on the IO-binding runtime (runtime/boundSession.ts). Parameters and optimizer
// state are bound where they live and the step writes their new values over the old (inPlace.ts
// decides per buffer; a buffer that fails its check gets a second one, swapped each run).
//
// Where they live: 'host' (the CPU's default) is the runner's own typed arrays, read and written by ORT
// directly. 'device' (CUDA's default) is tensors in the device's memory that stay there between runs:
// a run reads the host arrays only after they changed (the first run, a resume's load), and
// syncToHost() copies the device's values back (before a checkpoint, an evaluation, the end) through a
// second session of Identity nodes whose outputs are bound to the host arrays. On the CPU 'device'
// means ORT-allocated tensors: no use except to test the same code path without a GPU.

import { Graph, Value } from '../graph/graph';
import { GraphBuilder } from '../graph/builder';
import { toModelProto } from '../graph/serialize';
import { BoundSession } from '../runtime/boundSession';
import { SessionOptions } from '../runtime/session';
import { StepBuffer, stepBuffers } from './inPlace';
import { TrainStepConfig, TrainStepGraph } from './trainStep';

type Floats = Float32Array | Float64Array;
export type Residency = 'host' | 'device';

/** A batch-sized input of one run, bound anew each run. */
export interface RunFeed { name: string; dtype: 'int64' | 'uint32' | 'float32' | 'float64'; shape: number[]; data: BigInt64Array | Uint32Array | Floats; }

export class BoundStep {
  /** Per unit, per buffer ([params, ...state]): the second host array of a pair not updated in place, else null. */
  private spare: (Floats | null)[][];
  /** Device residency: a tensor id per buffer, the second ids of pairs not updated in place, and which copy is current. */
  private ids: number[][] | null = null;
  private spareIds: (number | null)[][] | null = null;
  private hostValid = true;
  private deviceValid = false;
  private copier: { session: BoundSession; ins: Value[][]; outs: Value[][] } | null = null;

  private constructor(
    private readonly session: BoundSession,
    private readonly cfg: TrainStepConfig,
    /** Per unit, per buffer: what the step reads, what replaces it, and whether in place (inPlace.ts). */
    private readonly pairs: StepBuffer[][],
    readonly residency: Residency,
    private readonly options: SessionOptions,
    buffers: Floats[][],
  ) {
    const Arr = cfg.dtype === 'float64' ? Float64Array : Float32Array;
    this.spare = buffers.map((bufs, gi) => bufs.map((b, si) => (residency === 'host' && !pairs[gi][si].inPlace ? new Arr(b.length) : null)));
  }

  /** Null when the addon is not there. `fixed`: inputs every run reads unchanged (frozen weights, L2-SP anchors), bound once. */
  static create(model: Uint8Array, cfg: TrainStepConfig, step: TrainStepGraph, buffers: Floats[][], fixed: { name: string; shape: readonly number[]; data: Floats }[],
    o: SessionOptions & { residency?: Residency }): BoundStep | null {
    const session = BoundSession.create(model, o);
    if (!session) return null;
    for (const f of fixed) session.bindInput(f.name, cfg.dtype, f.shape, f.data);
    // FTLAB_ORT_RESIDENCY=device|host overrides the default (tests take CUDA's path on the CPU with it).
    const env = process.env.FTLAB_ORT_RESIDENCY;
    const residency = o.residency ?? (env === 'device' || env === 'host' ? env : session.device === 'cuda' ? 'device' : 'host');
    return new BoundStep(session, cfg, stepBuffers(step), residency, o, buffers);
  }

  get device(): string { return this.session.device; }
  /** How many buffers are updated in place (the others are double-buffered). */
  get inPlace(): number { return this.pairs.flat().filter((p) => p.inPlace).length; }
  /** False while the device holds values the host arrays do not have yet (device residency): syncToHost() first. */
  get hostCurrent(): boolean { return this.hostValid; }

  /** Runs the step on `buffers` (host arrays); returns the outputs bound to the CPU and the host arrays that now hold (or will hold, after syncToHost) the state. */
  async run(buffers: Floats[][], feeds: RunFeed[], returned: string[]): Promise<{ out: Record<string, unknown>; buffers: Floats[][] }> {
    const { session: s, cfg, pairs } = this;
    const bindInputs = (data: (gi: number, si: number) => Floats) => pairs.forEach((row, gi) => row.forEach(({ input: v }, si) => s.bindInput(v.name, cfg.dtype, v.shape, data(gi, si))));
    const bindOutputTensors = (id: (gi: number, si: number) => number) => pairs.forEach((row, gi) => row.forEach(({ output: v }, si) => s.bindOutputTensor(v.name, id(gi, si))));
    let next = buffers;
    if (this.residency === 'host') {
      next = buffers.map((bufs, gi) => bufs.map((b, si) => this.spare[gi][si] ?? b));
      bindInputs((gi, si) => buffers[gi][si]);
      pairs.forEach((row, gi) => row.forEach(({ output: v }, si) => s.bindOutput(v.name, cfg.dtype, v.shape, next[gi][si])));
    } else {
      this.ids ??= buffers.map((bufs) => bufs.map((b) => s.deviceTensor(cfg.dtype, [b.length])));
      const ids = this.ids;
      if (this.deviceValid) {
        // In place where safe; a pair that is not writes into its second tensor, and the two swap below.
        const spareIds = (this.spareIds ??= pairs.map((row, gi) => row.map((p, si) => (p.inPlace ? null : s.deviceTensor(cfg.dtype, [buffers[gi][si].length])))));
        pairs.forEach((row, gi) => row.forEach(({ input: v }, si) => s.bindInputTensor(v.name, ids[gi][si])));
        bindOutputTensors((gi, si) => spareIds[gi][si] ?? ids[gi][si]);
      } else {
        // The host arrays changed (first run, load): read them, write the device tensors.
        bindInputs((gi, si) => buffers[gi][si]);
        bindOutputTensors((gi, si) => ids[gi][si]);
      }
    }
    for (const f of feeds) s.bindInput(f.name, f.dtype, f.shape, f.data);
    for (const name of returned) s.bindOutputToCpu(name);
    const out = await s.run();
    if (this.residency === 'host') {
      // A double-buffered pair swaps: what was read becomes the next run's output array.
      this.spare = this.spare.map((row, gi) => row.map((x, si) => (x ? buffers[gi][si] : null)));
    } else {
      if (this.deviceValid && this.spareIds) {
        const [ids, spare] = [this.ids!, this.spareIds];
        this.spareIds = spare.map((row, gi) => row.map((x, si) => (x === null ? null : ids[gi][si])));
        this.ids = ids.map((row, gi) => row.map((x, si) => spare[gi][si] ?? x));
      }
      this.deviceValid = true;
      this.hostValid = false;
    }
    return { out, buffers: next };
  }

  /** Device residency: copies the device's parameters and state into the host arrays. */
  async syncToHost(buffers: Floats[][]): Promise<void> {
    if (this.hostValid) return;
    if (!this.copier) {
      const b = new GraphBuilder(new Graph('copy_to_host'));
      const ins = buffers.map((bufs, gi) => bufs.map((x, si) => b.input(`b${gi}_${si}`, this.cfg.dtype, [x.length])));
      const outs = ins.map((row) => row.map((x) => b.identity(x)));
      b.graph.outputs = outs.flat();
      const session = BoundSession.create(toModelProto(b.graph), { ...this.options, device: this.session.device })!;
      this.copier = { session, ins, outs };
    }
    const { session: c, ins, outs } = this.copier;
    ins.forEach((row, gi) => row.forEach((v, si) => c.bindInputTensor(v.name, this.ids![gi][si])));
    outs.forEach((row, gi) => row.forEach((v, si) => c.bindOutput(v.name, this.cfg.dtype, v.shape, buffers[gi][si])));
    await c.run();
    this.hostValid = true;
  }

  /** The host arrays were written (a checkpoint's values): the next run reads them. */
  hostChanged(): void {
    this.hostValid = true;
    this.deviceValid = false;
  }

  endProfiling(): void { this.session.endProfiling(); }

  release(): void {
    this.copier?.session.release();
    this.session.release();
  }
}
