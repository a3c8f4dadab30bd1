// Compiles one training step (or K steps through an ONNX Loop) into a single graph:
// forward, loss, reverse-mode backward, gradient accumulation over micro-batches, global-norm
// clipping and the optimizer update over flat per-group buffers.
//
// Graph inputs:  <group>.params [N_g], <group>.<state> [N_g] (m, v | momentum), frozen/<name>,
//                input_ids, targets [K, A, B, T] int64, lr [K], step [K] (1-based), dropout_key [K] uint32,
//                <group>.l2sp_anchor [N_g] (pretrained values, only when l2sp > 0),
//                steps_in_run [] int64 (K > 1 only: how many of the K steps this run makes, 1..K)
// Graph outputs: loss [k], grad_norm [k] (before clipping), then per group params and state.

import { GraphBuilder } from '../graph/builder';
import { DType, Graph, Value, size } from '../graph/graph';
import { gradients } from '../autodiff/autodiff';
import { NnContext, ParamShape, crossEntropy } from '../models/nn';
import { OptimizerConfig, optimizerUpdate, stateNames } from '../optim/optimizer';

export interface ParamGroup {
  name: string;
  params: ParamShape[];
  weightDecay: number;
  /** Multiplies the scheduled learning rate (layer-wise learning rates build on it). */
  lrScale: number;
}

export type ForwardFn = (c: NnContext, p: (name: string) => Value, ids: Value) => Value;

export interface TrainStepConfig {
  dtype: 'float32' | 'float64';
  groups: ParamGroup[];
  /** Parameters fed as inputs that never come back (frozen embeddings, a LoRA base). */
  frozen: ParamShape[];
  batchSize: number;
  seqLen: number;
  /** Gradient accumulation: micro-batches per optimizer step. */
  microBatches: number;
  /** Optimizer steps per session run (ONNX Loop when > 1). */
  stepsPerRun: number;
  optimizer: OptimizerConfig;
  /** Global gradient-norm clipping; 0 disables. */
  maxGradNorm: number;
  dropout: boolean;
  /** Decompose ops without float64 kernels (gradient-check graphs). */
  decompose?: boolean;
  /**
   * 'flat': one buffer per group (a dozen large optimizer nodes, but a Split of the parameters and a
   * Concat of the gradients every step). 'tensors': one buffer per parameter. Measured: 'tensors' is
   * faster on the CPU too (size b 648-686 vs 707 ms/step, 1,156 vs 1,297 MiB), and on CUDA the
   * Concat/Split over ~100 large pieces took seconds. The trainer uses 'tensors'.
   */
  layout?: 'flat' | 'tensors';
  forward: ForwardFn;
  /** LoRA: trained adapters (A, B parameter names) on frozen weights. */
  lora?: { weight: string; A: string; B: string; scale: number }[];
  /**
   * L2-SP lambda (0 or absent: off, and the graph is exactly the one without it): every trained
   * parameter is pulled toward its pretrained value, decoupled, by lr * lambda * (p - w0) per step,
   * lr being its group's (layer-wise scale included, as for AdamW's decay: scale 0 stays put); the
   * formula and its placement are in optimizerUpdate. All trained tensors, not only those with weight
   * decay: decay spares biases and norm gains because 0 is the wrong value to pull them toward,
   * but their pretrained value is the right one, and forgetting runs through them too (the paper
   * applies L2-SP to every pretrained parameter; its L2 term is for new layers, which a causal-LM
   * fine-tune does not add). The pretrained copies are frozen inputs, one per unit
   * (`<unit>.l2sp_anchor`): fed every run, never returned. Memory: one more parameter-sized buffer
   * (params + m + v + w0 = 4 copies as inputs instead of 3); the runner feeds the caller's initial
   * arrays in the 'tensors' layout (no copy on the CPU) and one flat copy per group in the 'flat'
   * layout; on CUDA it is uploaded each run like the other inputs. No code estimates memory today.
   * Not for LoRA: its pretrained weights are frozen and its adapters have no pretrained value.
   */
  l2sp?: number;
  /**
   * Gradient checkpointing (absent or false: off, and the graph is exactly the one without it): the
   * backward pass recomputes each transformer block from the residual stream entering it (NnContext
   * recompute, autodiff.ts), so that only the L block inputs [B, T, C] live from the forward to the
   * backward, plus one block's activations at a time; the price is a second forward pass of the blocks.
   */
  gradientCheckpointing?: boolean;
}

/** The buffers a step reads and writes: one per group (flat layout) or one per parameter. */
export function trainUnits(cfg: Pick<TrainStepConfig, 'groups' | 'layout'>): ParamGroup[] {
  if (cfg.layout !== 'tensors') return cfg.groups;
  return cfg.groups.flatMap((g) => g.params.map((p) => ({ ...g, name: `${g.name}/${p.name}`, params: [p] })));
}

export interface TrainStepGraph {
  graph: Graph;
  /** Output order: loss, grad_norm, then for each group: params, ...state. */
  outputs: { loss: Value; gradNorm: Value; groups: { params: Value; state: Value[] }[] };
  inputs: { groups: { params: Value; state: Value[] }[]; frozen: Map<string, Value>; ids: Value; targets: Value; lr: Value; step: Value; dropoutKey: Value | null;
    /** K > 1: the number of steps a run makes (the Loop's trip count); null for K = 1. */
    stepsInRun: Value | null;
    /** Per group (unit): its pretrained values when L2-SP is on; null when off. */
    l2spAnchors: Value[] | null };
}

interface StepState { params: Value[]; state: Value[][]; }

export function groupSize(g: ParamGroup): number {
  return g.params.reduce((n, p) => n + size(p.shape), 0);
}

export function buildTrainStep(cfg: TrainStepConfig): TrainStepGraph {
  const { dtype, batchSize: B, seqLen: T, microBatches: A, stepsPerRun: K } = cfg;
  const groups = trainUnits(cfg);
  if (!groups.length) throw new Error('buildTrainStep: nothing to train (no parameter groups)');
  const names = new Set<string>();
  for (const p of [...groups.flatMap((g) => g.params), ...cfg.frozen]) {
    if (names.has(p.name)) throw new Error(`buildTrainStep: parameter '${p.name}' appears twice`);
    names.add(p.name);
  }
  const l2sp = cfg.l2sp ?? 0;
  if (!(Number.isFinite(l2sp) && l2sp >= 0)) throw new RangeError(`buildTrainStep: L2-SP weight must be a finite number >= 0, got ${l2sp}`);
  if (l2sp > 0 && cfg.lora?.length) throw new Error('buildTrainStep: L2-SP does not apply to LoRA (the pretrained weights are frozen; the adapters have no pretrained value)');
  const b = new GraphBuilder(new Graph('train_step'));
  const sNames = stateNames(cfg.optimizer);
  const gIn = groups.map((g) => {
    const n = groupSize(g);
    return { params: b.input(`${g.name}.params`, dtype, [n]), state: sNames.map((s) => b.input(`${g.name}.${s}`, dtype, [n])) };
  });
  const frozen = new Map(cfg.frozen.map((p) => [p.name, b.input(`frozen/${p.name}`, dtype, p.shape)]));
  const ids = b.input('input_ids', 'int64', [K, A, B, T]);
  const targets = b.input('targets', 'int64', [K, A, B, T]);
  const lr = b.input('lr', dtype, [K]);
  const step = b.input('step', dtype, [K]);
  const key = cfg.dropout ? b.input('dropout_key', 'uint32', [K]) : null;
  const anchors = l2sp > 0 ? groups.map((g) => b.input(`${g.name}.l2sp_anchor`, dtype, [groupSize(g)])) : null;
  // A run may make fewer than K steps (the last before a checkpoint): the Loop's trip count is an input.
  const trips = K > 1 ? b.input('steps_in_run', 'int64', []) : null;

  const body = (sb: GraphBuilder, k: Value | number, st: StepState) => {
    const pick = (v: Value) => (typeof k === 'number' ? b.reshape(v, v.shape.slice(1)) : sb.gather(v, k));
    return stepBody(sb, cfg, groups, st, frozen, pick(ids), pick(targets), pick(lr), pick(step), key && pick(key), anchors);
  };
  const initial: StepState = { params: gIn.map((g) => g.params), state: gIn.map((g) => g.state) };
  let loss: Value, gradNorm: Value, final: StepState;
  if (K === 1) {
    const r = body(b, 0, initial);
    loss = b.reshape(r.loss, [1]);
    gradNorm = b.reshape(r.gradNorm, [1]);
    final = r.next;
  } else {
    const flat = [...initial.params, ...initial.state.flat()];
    const [carried, scans] = b.loop({ count: trips!, max: K }, flat, (sb, iter, c) => {
      let at = 0;
      const st: StepState = { params: groups.map(() => c[at++]), state: groups.map(() => sNames.map(() => c[at++])) };
      const r = body(sb, iter, st);
      return [[...r.next.params, ...r.next.state.flat()], [r.loss, r.gradNorm]];
    });
    let at = 0;
    final = { params: groups.map(() => carried[at++]), state: groups.map(() => sNames.map(() => carried[at++])) };
    [loss, gradNorm] = scans;
  }
  const outGroups = groups.map((_, gi) => ({ params: final.params[gi], state: final.state[gi] }));
  b.graph.outputs = [loss, gradNorm, ...outGroups.flatMap((g) => [g.params, ...g.state])];
  return {
    graph: b.graph,
    outputs: { loss, gradNorm, groups: outGroups },
    inputs: { groups: gIn, frozen, ids, targets, lr, step, dropoutKey: key, l2spAnchors: anchors, stepsInRun: trips },
  };
}

function stepBody(b: GraphBuilder, cfg: TrainStepConfig, groups: ParamGroup[], st: StepState, frozen: Map<string, Value>,
  ids: Value, targets: Value, lr: Value, t: Value, key: Value | null, anchors: Value[] | null): { next: StepState; loss: Value; gradNorm: Value } {
  const { dtype } = cfg;
  const A = cfg.microBatches;
  // Views of each parameter inside its group's flat buffer.
  const views = new Map<string, Value>();
  groups.forEach((g, gi) => {
    let off = 0;
    for (const p of g.params) {
      const n = size(p.shape);
      const flat = st.params[gi];
      views.set(p.name, b.reshape(n === flat.shape[0] ? flat : b.slice(flat, 0, off, off + n), p.shape));
      off += n;
    }
  });
  const lookup = (name: string): Value => {
    const v = views.get(name) ?? frozen.get(name);
    if (!v) throw new Error(`model asks for parameter '${name}', which is neither trained nor frozen`);
    return v;
  };
  const trained = groups.map((g) => g.params.map((p) => views.get(p.name)!));

  // Loss and flat per-group gradients of one micro-batch.
  const microStep = (mb: GraphBuilder, mIds: Value, mTargets: Value, mKey: Value | null) => {
    const lora = cfg.lora?.length ? new Map(cfg.lora.map((a) => [lookup(a.weight), { A: lookup(a.A), B: lookup(a.B), scale: a.scale }])) : undefined;
    const c: NnContext = { b: mb, dtype, decompose: !!cfg.decompose, dropoutKey: mKey, dropoutSites: 0, lora, ...(cfg.gradientCheckpointing ? { recompute: true } : {}) };
    const logits = cfg.forward(c, lookup, mIds);
    const { loss } = crossEntropy(c, logits, mTargets);
    const grads = gradients(mb, loss, trained.flat());
    const flat = trained.map((vs) => (vs.length === 1 ? mb.reshape(grads.get(vs[0])!, [-1]) : mb.concat(vs.map((v) => mb.reshape(grads.get(v)!, [-1])), 0)));
    return { loss, flat };
  };

  let loss: Value, flatGrads: Value[];
  if (A === 1) {
    const r = microStep(b, b.reshape(ids, ids.shape.slice(1)), b.reshape(targets, targets.shape.slice(1)), key);
    loss = r.loss;
    flatGrads = r.flat;
  } else {
    // Mean of micro-batch losses (each a token mean), like Trainer's gradient accumulation.
    const zeros = st.params.map((p) => b.expand(b.scalar(0, dtype), p.shape));
    const [sums, [losses]] = b.loop(A, zeros, (mb, a, acc) => {
      const mKey = key && mb.add(mb.mul(key, mb.scalar(A, 'uint32')), mb.cast(a, 'uint32'));
      const r = microStep(mb, mb.gather(ids, a), mb.gather(targets, a), mKey);
      return [acc.map((x, gi) => mb.add(x, r.flat[gi])), [r.loss]];
    });
    const inv = b.scalar(1 / A, dtype);
    flatGrads = sums.map((g) => b.mul(g, inv));
    loss = b.reduceMean(losses, [0]);
  }

  const sq = flatGrads.map((g) => b.reduceSum(b.mul(g, g), [0]));
  const gradNorm = b.sqrt(sq.reduce((x, y) => b.add(x, y)));
  // torch.nn.utils.clip_grad_norm_: scale by min(1, max_norm / (norm + 1e-6)); the optimizer folds
  // this scalar into its own scalars instead of a pass over every gradient.
  const clip = cfg.maxGradNorm > 0
    ? b.min(b.scalar(1, dtype), b.div(b.scalar(cfg.maxGradNorm, dtype), b.add(gradNorm, b.scalar(1e-6, dtype))))
    : null;
  const next: StepState = { params: [], state: [] };
  groups.forEach((g, gi) => {
    const glr = g.lrScale === 1 ? lr : b.mul(lr, b.scalar(g.lrScale, dtype));
    const pull = anchors ? { anchor: anchors[gi], weight: cfg.l2sp! } : null;
    const u = optimizerUpdate(b, cfg.optimizer, st.params[gi], flatGrads[gi], st.state[gi], glr, t, g.weightDecay, clip, pull);
    next.params.push(u.params);
    next.state.push(u.state);
  });
  return { next, loss, gradNorm };
}
