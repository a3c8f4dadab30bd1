// Runs a compiled training step on ONNX Runtime. Parameters and optimizer state live in one flat
// typed array per group and per state buffer; frozen tensors (and L2-SP's pretrained values) are fed
// as inputs and never copied back.
//
// Two runtimes. With the IO-binding addon (boundStep.ts, the default where it is built), every buffer
// is bound where it is and the step writes the new parameters and state over the old: no copies, no
// garbage; on CUDA they stay in the GPU's memory between runs (syncToHost() before reading them).
// Without it, onnxruntime-node's run() returns new arrays every run and the runner keeps those.

import * as ort from 'onnxruntime-node';
import { dumpModel, toModelProto } from '../graph/serialize';
import { CompiledSession, SessionOptions, createSession, tensor } from '../runtime/session';
import { boundSessionUnavailable } from '../runtime/boundSession';
import { BoundStep, Residency, RunFeed } from './boundStep';
import { ParamGroup, TrainStepConfig, TrainStepGraph, groupSize, trainUnits } from './trainStep';
import { size } from '../graph/graph';

type Floats = Float32Array | Float64Array;

export interface StepBatch {
  /** [K, A, B, T] token ids, row-major. */
  inputIds: BigInt64Array;
  /** [K, A, B, T] next-token targets, -100 = not counted. */
  targets: BigInt64Array;
}

export interface StepResult { loss: number[]; gradNorm: number[]; }

export interface RunnerOptions extends SessionOptions {
  /**
   * 'bound': the IO-binding addon (fails when it is missing); 'onnxruntime-node': run() with copies;
   * 'auto' (default): bound where the addon loads. FTLAB_ORT_ADDON=0 makes 'auto' mean onnxruntime-node.
   */
  runtime?: 'auto' | 'bound' | 'onnxruntime-node';
  /** Bound runtime: where parameters and state live between runs (default: the device's memory on CUDA, else the host). */
  residency?: Residency;
  /**
   * The caller hands over the arrays of the trained parameters in `init`: the runner trains them in
   * place (one parameter per buffer, the right type) instead of copying them, which saves one copy of
   * the trained weights. Never with L2-SP (the initial arrays are its anchors).
   */
  adoptInitial?: boolean;
}

export class TrainStepRunner {
  private constructor(
    readonly cfg: TrainStepConfig,
    private readonly step: TrainStepGraph,
    private readonly compiled: CompiledSession | null,
    private readonly bound: BoundStep | null,
    /** Per group: [params, ...optimizer state]. */
    private buffers: Floats[][],
    private readonly frozenFeeds: Record<string, ort.Tensor>,
    private readonly units: ParamGroup[],
  ) {}

  get device(): string { return this.bound?.device ?? this.compiled!.device; }

  /** Which runtime runs the step, and how many of its buffers are updated in place. */
  get runtime(): { name: 'bound' | 'onnxruntime-node'; inPlace: number; buffers: number } {
    const buffers = this.buffers.reduce((n, b) => n + b.length, 0);
    if (!this.bound) return { name: 'onnxruntime-node', inPlace: 0, buffers };
    return { name: 'bound', inPlace: this.bound.inPlace, buffers };
  }

  static async create(cfg: TrainStepConfig, step: TrainStepGraph, init: Map<string, Floats>, o: RunnerOptions = {}): Promise<TrainStepRunner> {
    const Arr = cfg.dtype === 'float64' ? Float64Array : Float32Array;
    const units = trainUnits(cfg);
    const adopt = !!o.adoptInitial && !(cfg.l2sp && cfg.l2sp > 0);
    const buffers = units.map((g) => {
      const own = adopt && g.params.length === 1 ? init.get(g.params[0].name) : undefined;
      if (own instanceof Arr && own.length === groupSize(g)) return [own, ...step.inputs.groups[0].state.map(() => new Arr(own.length))];
      const flat = new Arr(groupSize(g));
      let off = 0;
      for (const p of g.params) {
        const src = init.get(p.name);
        const n = size(p.shape);
        if (!src) throw new Error(`no initial value for parameter '${p.name}'`);
        if (src.length !== n) throw new Error(`parameter '${p.name}' has ${src.length} values, expected ${n} for shape [${p.shape}]`);
        flat.set(src, off);
        off += n;
      }
      return [flat, ...step.inputs.groups[0].state.map(() => new Arr(flat.length))];
    });
    const frozenFeeds: Record<string, ort.Tensor> = {};
    for (const p of cfg.frozen) {
      const src = init.get(p.name);
      if (!src) throw new Error(`no value for frozen parameter '${p.name}'`);
      const v = step.inputs.frozen.get(p.name)!;
      frozenFeeds[v.name] = tensor(cfg.dtype, p.shape, src instanceof Arr ? src : Arr.from(src));
    }
    // L2-SP anchors: the values the parameters start from here (the pretrained weights; a resume's
    // load() replaces the parameters, not these). In the 'tensors' layout the caller's arrays are fed
    // as they are (no copy: the caller must not change them while the runner lives); a flat group
    // gets one concatenated copy.
    step.inputs.l2spAnchors?.forEach((a, gi) => {
      const g = units[gi];
      const only = g.params.length === 1 ? init.get(g.params[0].name)! : null;
      const data = only instanceof Arr ? only : Arr.from(buffers[gi][0]);
      frozenFeeds[a.name] = tensor(cfg.dtype, a.shape, data);
    });
    // FTLAB_DUMP_GRAPH=file.onnx writes the compiled step for Netron (weights are inputs: it stays small).
    if (process.env.FTLAB_DUMP_GRAPH) dumpModel(step.graph, process.env.FTLAB_DUMP_GRAPH);
    const model = toModelProto(step.graph);
    const runtime = o.runtime ?? (process.env.FTLAB_ORT_ADDON === '0' ? 'onnxruntime-node' : 'auto');
    const fixed = Object.entries(frozenFeeds).map(([name, t]) => ({ name, shape: t.dims, data: t.data as Floats }));
    const bound = runtime === 'onnxruntime-node' ? null : BoundStep.create(model, cfg, step, buffers, fixed, o);
    if (runtime === 'bound' && !bound) throw new Error(`the IO-binding runtime is not available: ${boundSessionUnavailable()}`);
    if (!bound) return new TrainStepRunner(cfg, step, await createSession(model, o), null, buffers, frozenFeeds, units);
    return new TrainStepRunner(cfg, step, null, bound, buffers, frozenFeeds, units);
  }

  /**
   * Runs k = lr.length optimizer steps (1..K, K = cfg.stepsPerRun). lr and step (1-based) are per step;
   * dropoutKeys too when dropout is on. The batch holds K steps' rows ([K, A, B, T]); only the first k
   * are read. Returns one loss and gradient norm per step made.
   */
  async run(batch: StepBatch, lr: number[], stepNo: number[], dropoutKeys?: number[]): Promise<StepResult> {
    const { cfg, step } = this;
    const K = cfg.stepsPerRun;
    const k = lr.length;
    if (!(k >= 1 && k <= K) || stepNo.length !== k || (dropoutKeys && dropoutKeys.length !== k)) {
      throw new RangeError(`a run makes 1 to ${K} steps, with one learning rate, step number (and dropout key) each; got ${lr.length}, ${stepNo.length}${dropoutKeys ? `, ${dropoutKeys.length}` : ''}`);
    }
    // Rows of the steps a short run does not make are fed but never read: pad with the last step's values.
    const pad = (xs: number[]) => (xs.length === K ? xs : [...xs, ...new Array<number>(K - xs.length).fill(xs[xs.length - 1])]);
    lr = pad(lr); stepNo = pad(stepNo); dropoutKeys = dropoutKeys && pad(dropoutKeys);
    const Arr = cfg.dtype === 'float64' ? Float64Array : Float32Array;
    const shape = [K, cfg.microBatches, cfg.batchSize, cfg.seqLen];
    if (this.bound) return this.runBound(this.bound, batch, shape, Arr.from(lr), Arr.from(stepNo), dropoutKeys, k);
    const feeds: Record<string, ort.Tensor> = { ...this.frozenFeeds };
    step.inputs.groups.forEach((g, gi) => {
      feeds[g.params.name] = tensor(cfg.dtype, g.params.shape, this.buffers[gi][0]);
      g.state.forEach((s, si) => { feeds[s.name] = tensor(cfg.dtype, s.shape, this.buffers[gi][si + 1]); });
    });
    feeds[step.inputs.ids.name] = tensor('int64', shape, batch.inputIds);
    feeds[step.inputs.targets.name] = tensor('int64', shape, batch.targets);
    feeds[step.inputs.lr.name] = tensor(cfg.dtype, [K], Arr.from(lr));
    feeds[step.inputs.step.name] = tensor(cfg.dtype, [K], Arr.from(stepNo));
    if (step.inputs.dropoutKey) feeds[step.inputs.dropoutKey.name] = tensor('uint32', [K], Uint32Array.from(dropoutKeys ?? stepNo));
    if (step.inputs.stepsInRun) feeds[step.inputs.stepsInRun.name] = tensor('int64', [], BigInt64Array.of(BigInt(k)));
    const out = await this.compiled!.session.run(feeds);
    const o = step.outputs;
    this.buffers = o.groups.map((g) => [g.params, ...g.state].map((v) => out[v.name].data as Floats));
    return { loss: Array.from(out[o.loss.name].data as Floats), gradNorm: Array.from(out[o.gradNorm.name].data as Floats) };
  }

  private async runBound(bound: BoundStep, batch: StepBatch, shape: number[], lr: Floats, stepNo: Floats, dropoutKeys: number[] | undefined, k: number): Promise<StepResult> {
    const { cfg, step } = this;
    const K = cfg.stepsPerRun;
    const feeds: RunFeed[] = [
      { name: step.inputs.ids.name, dtype: 'int64', shape, data: batch.inputIds },
      { name: step.inputs.targets.name, dtype: 'int64', shape, data: batch.targets },
      { name: step.inputs.lr.name, dtype: cfg.dtype, shape: [K], data: lr },
      { name: step.inputs.step.name, dtype: cfg.dtype, shape: [K], data: stepNo },
      ...(step.inputs.dropoutKey ? [{ name: step.inputs.dropoutKey.name, dtype: 'uint32' as const, shape: [K], data: Uint32Array.from(dropoutKeys ?? stepNo) }] : []),
      ...(step.inputs.stepsInRun ? [{ name: step.inputs.stepsInRun.name, dtype: 'int64' as const, shape: [], data: BigInt64Array.of(BigInt(k)) }] : []),
    ];
    // One loss and norm per step made (a Loop's scan outputs have k rows), allocated by ORT and returned.
    const o = step.outputs;
    const r = await bound.run(this.buffers, feeds, [o.loss.name, o.gradNorm.name]);
    this.buffers = r.buffers;
    return { loss: Array.from(r.out[o.loss.name] as Floats), gradNorm: Array.from(r.out[o.gradNorm.name] as Floats) };
  }

  /**
   * Makes params(), optimizerState() and state() current: with the bound runtime on a device, copies
   * the device's values to the host (a no-op otherwise). Call before reading them after a run.
   */
  async syncToHost(): Promise<void> {
    await this.bound?.syncToHost(this.buffers);
  }

  private readable(): void {
    if (this.bound && !this.bound.hostCurrent) throw new Error('the training state is on the device: await runner.syncToHost() before reading it');
  }

  /** Current value of every trained parameter (views into the flat buffers). */
  params(): Map<string, Floats> {
    this.readable();
    return new Map([...this.views(0)].map(([n, v]) => [n, v]));
  }

  /**
   * Optimizer state per trained parameter, in stateNames(optimizer) order (AdamW: m, v), as views:
   * what a checkpoint saves so that a resumed run continues exactly.
   */
  optimizerState(): Map<string, Floats[]> {
    this.readable();
    const nState = this.buffers[0].length - 1;
    const per = Array.from({ length: nState }, (_, k) => this.views(k + 1));
    return new Map([...per[0]?.keys() ?? []].map((n) => [n, per.map((m) => m.get(n)!)]));
  }

  /** Sets parameters and optimizer state (from a checkpoint); every trained parameter must be given. */
  load(params: Map<string, Floats>, state: Map<string, Floats[]>): void {
    this.bound?.hostChanged();
    this.units.forEach((g, gi) => {
      let off = 0;
      for (const p of g.params) {
        const n = size(p.shape);
        const value = params.get(p.name), st = state.get(p.name);
        if (!value || value.length !== n) throw new Error(`checkpoint has no value of ${n} elements for '${p.name}'`);
        if (!st || st.length !== this.buffers[gi].length - 1 || st.some((x) => x.length !== n)) throw new Error(`checkpoint has no optimizer state for '${p.name}'`);
        this.buffers[gi][0].set(value, off);
        st.forEach((x, k) => this.buffers[gi][k + 1].set(x, off));
        off += n;
      }
    });
  }

  private views(buffer: number): Map<string, Floats> {
    const m = new Map<string, Floats>();
    this.units.forEach((g, gi) => {
      let off = 0;
      for (const p of g.params) {
        const n = size(p.shape);
        m.set(p.name, this.buffers[gi][buffer].subarray(off, off + n));
        off += n;
      }
    });
    return m;
  }

  /** Buffers per unit (group, or parameter in the 'tensors' layout): [params, ...state]. */
  state(): Floats[][] { this.readable(); return this.buffers; }
  restore(buffers: Floats[][]): void { this.buffers = buffers; this.bound?.hostChanged(); }

  async release(): Promise<void> {
    if (this.bound) {
      if (process.env.FTLAB_ORT_PROFILE) this.bound.endProfiling();
      this.bound.release();
      return;
    }
    if (process.env.FTLAB_ORT_PROFILE) this.compiled!.session.endProfiling();
    await this.compiled!.session.release();
  }
}
