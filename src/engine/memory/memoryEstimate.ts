// A training run's peak memory (resident bytes) before anything is allocated: from the model's
// config, the strategy, batch, sequence length and optimizer. The step graph is built as the trainer
// builds it (shapes only, no weights) and walked for the most its intermediate tensors hold at once
// (graphLiveness.ts): saved activations, [B, H, T, T] attention scores and probabilities per layer,
// logits [B, T, V] and their gradient, the gradients, the new parameters and optimizer state.
//
// What is alive at the peak of a CPU run (trainer.ts, trainRunner.ts). N = trained parameters,
// W = all model parameters, s = optimizer state buffers per parameter (AdamW 2: m and v; SGD 1),
// L = the step graph's working set (graphPeak), O = its outputs (new parameters and state, loss),
// C = its constants (causal masks), in bytes. Two runtimes (trainRunner.ts): 'bound' (the IO-binding
// addon, where it is built) and 'onnxruntime-node'; where they differ, the bound one first.
//
//   weights          4 (W - N)      bound, with the loaded weights handed to the run (ftlab train and
//                    or 4 W         experiments, no L2-SP): the trained tensors are trained in place.
//                                   Else the loaded model in float32 (whatever the file's dtype); frozen
//                                   tensors, a LoRA base and L2-SP's pretrained values are fed from
//                                   these arrays without a copy
//   parameters       4 N            the runner's buffers of the trained parameters, fed every run
//   optimizerState   4 s N          AdamW m and v (SGD: momentum), fed every run
//   gradients        min(4 N, L)    inside the step: each lives until the global norm is known and
//                                   the update has consumed it
//   activations      L - outputs    the rest of the step's working set at its peak
//                      - gradients
//   runtime          bound:         the step writes the new parameters and state over the fed ones
//                                   (O is not allocated; pairs inPlace.ts cannot prove safe get a second
//                                   buffer: 'spare'); the arena keeps ARENA_FACTOR x L (L without O).
//                                   Plus C. The same ARENA_FACTOR fits the 17 cases of bench/memory.ts
//                                   on this runtime within 17% (2026-11-28, BENCHMARKS.md).
//                    onnxruntime-node: ORT allocates each run's outputs (new parameters and state) and
//                                   onnxruntime-node copies them into new JS arrays while the fed
//                                   ones are still referenced; V8 frees the arrays of earlier steps
//                                   some steps late: JS_SETS x 4 (1+s) N in all, fed set included.
//                                   ORT's CPU arena keeps its high-water mark with its rounding and
//                                   fragmentation: ARENA_FACTOR x L in all. Plus C.
//   l2spAnchors      0              L2-SP's pretrained values are the loaded weights, fed without a
//                                   copy in the trainer's per-tensor layout
//   validation       ARENA_FACTOR   with --eval-steps and a validation split: the forward-only eval
//                    x L_eval       session's arena (LoRA: also the merged copies of the adapted
//                    (+ LoRA merge)   weights); the trained weights are fed as they are. Not fitted:
//                                   the training step's arena factor, not measured separately
//   baseline         BASELINE_BYTES Node, ONNX Runtime, the tokenizer library, the CLI
//
//   recompute        CHECKPOINT_ATTENTION_TENSORS x one layer's [B, H, T, T] attention probabilities, with
//   (in runtime)     gradient checkpointing: what ORT's own node order holds beyond L (fitted, see there)
//
//   bound:            peakBytes = BASELINE + 4 (W - N) + 4 (1+s) N + spare + ARENA_FACTOR x L + C (+ recompute) (+ validation)
//   onnxruntime-node: peakBytes = BASELINE + 4 W + JS_SETS x 4 (1+s) N + ARENA_FACTOR x L + C (+ recompute) (+ validation)
//
// The three constants are fitted (least squares on relative error) to the peak RSS (VmHWM) of
// 3-step `ftlab train` runs of 14 reduced GPT-2, Llama and Qwen2 configs (full, frozen-embeddings
// with L2-SP, layerwise-lr with accumulation, SGD, LoRA; 111 MiB to 1.6 GiB; bench/memory.ts,
// BENCHMARKS.md) on the onnxruntime-node runtime: fit baseline 114 MiB, JS sets 2.32, arena 1.50,
// every case within 9%; the bound runtime's formula reuses baseline and arena (BENCHMARKS.md). JS_SETS is
// raised to 2.5 for longer runs (see there): the 3-step cases are then within 13%, 40 steps -4%. The
// checkpoint at the end (a copy of the parameters and of the state while the arena still holds its
// mark) stays below the step's peak there. Only the CPU is measured; on CUDA the working set and the
// fed buffers are in GPU memory as well, which this does not estimate.

import { CausalLM } from '../models/causalLM';
import { Graph, size } from '../graph/graph';
import { buildTrainStep } from '../train/trainStep';
import { trainStepConfig } from '../train/trainStepConfig';
import { trainedShapes } from '../train/trainedParameters';
import { LoraConfig } from '../train/lora';
import { Strategy, strategyHooks } from '../train/strategies';
import { TrainingArguments } from '../train/trainingArguments';
import { stateNames } from '../optim/optimizer';
import { evalLossGraph } from '../train/evalLoss';
import { constantBytes, graphPeak, valueBytes } from './graphLiveness';
import { boundSessionUnavailable } from '../runtime/boundSession';
import { stepBuffers } from '../train/inPlace';

/** Node + ONNX Runtime + tokenizers + the CLI (fitted; a 36k-parameter model's run peaks at 111 MiB). */
export const BASELINE_BYTES = 114 * 2 ** 20;
/**
 * Sets of trained parameters + optimizer state alive in JS at the peak: fed, returned, not yet
 * collected. 2.3 fits the 3-step runs; V8 collects later as a run goes on (measured: 2.7 after 40
 * steps of a 17 M-parameter model), so between the two.
 */
export const JS_SETS = 2.5;
/** ORT's resident memory over the step's working set: arena rounding, fragmentation, kernel scratch (fitted). */
export const ARENA_FACTOR = 1.5;
/**
 * With gradient checkpointing, attention-score tensors [B, H, T, T] (float32) that ORT holds at the peak
 * beyond what the liveness walk finds: the walk follows the graph's node order, where a recomputed block
 * is differentiated right after it is made again; ORT orders nodes its own way (a depth-first walk from
 * the outputs) and keeps more of one block's [B, H, T, T] temporaries at once. Fitted to three measured
 * SmolLM2-135M LoRA runs (bench/models.ts --gradient-checkpointing: 6 layers T = 1024, 30 layers T = 1024
 * and 2048; BENCHMARKS.md "Gradient checkpointing"): within 10% there, without it 23-44% under.
 */
export const CHECKPOINT_ATTENTION_TENSORS = 10;

export interface MemoryEstimateInput {
  model: CausalLM;
  strategy: Strategy;
  /** LoRA rank, alpha and target modules (strategy 'lora'). */
  lora?: LoraConfig;
  /** Batch size, accumulation, optimizer, L2-SP weight, dropout, device as the run will use them. */
  args: TrainingArguments;
  /** Input tokens per row (the longest example minus one). */
  seqLen: number;
  /** Validation loss is computed during the run (eval steps and a validation split). */
  validation?: boolean;
  /** Default: 'bound' where the IO-binding addon loads (what the trainer then uses), else 'onnxruntime-node'. */
  runtime?: 'bound' | 'onnxruntime-node';
  /** The loaded weights are handed to the run (fineTune: ftlab train, experiments); default true. */
  consumesWeights?: boolean;
}

export interface MemoryParts {
  weights: number;
  parameters: number;
  optimizerState: number;
  gradients: number;
  activations: number;
  runtime: number;
  l2spAnchors: number;
  validation: number;
  baseline: number;
}

export interface MemoryEstimate {
  /** Estimated peak resident memory of the training process. */
  peakBytes: number;
  parts: MemoryParts;
  /** What the estimate is of: the sizes it was computed from. */
  basis: { parameters: number; trainedParameters: number; batchSize: number; seqLen: number; accumulation: number; device: TrainingArguments['device'] };
}

export function estimateTrainingMemory(input: MemoryEstimateInput): MemoryEstimate {
  const { model, strategy, lora, args, seqLen } = input;
  const hooks = strategyHooks(model, strategy);
  const job = { model, args, lora: strategy.kind === 'lora' ? lora : undefined, isFrozen: hooks.isFrozen, lrScale: hooks.lrScale };
  const shapes = trainedShapes(job);
  const plan = { batchSize: args.perDeviceTrainBatchSize, seqLen, accumulation: args.gradientAccumulationSteps, l2sp: args.l2spWeight };
  const cfg = trainStepConfig(job, shapes, plan);
  const step = buildTrainStep(cfg);

  const count = (ps: { shape: readonly number[] }[]) => ps.reduce((n, p) => n + size(p.shape), 0);
  const W = count(model.params);
  const N = count(shapes.trainable);
  const s = stateNames(cfg.optimizer).length;
  const f32 = 4;
  const bound = (input.runtime ?? (process.env.FTLAB_ORT_ADDON !== '0' && boundSessionUnavailable() === null ? 'bound' : 'onnxruntime-node')) === 'bound';
  // Bound: the outputs are written over the fed parameters and state, not allocated by the run.
  const peak = graphPeak(step.graph, { outputsBound: bound });
  const L = peak.peakBytes;
  const gradients = Math.min(f32 * N, L);
  const activations = Math.max(0, L - (bound ? 0 : peak.outputBytes) - gradients);
  const fed = f32 * (1 + s) * N;
  const recomputeExtra = args.gradientCheckpointing ? CHECKPOINT_ATTENTION_TENSORS * attentionScoreBytes(step.graph) : 0;
  // The trainer's per-tensor layout adopts each trained tensor's loaded array (trainRunner.ts adoptInitial).
  const adopted = bound && (input.consumesWeights ?? true) && !(args.l2spWeight > 0) && cfg.layout === 'tensors' ? f32 * N : 0;
  let runtime: number;
  if (bound) {
    const spare = stepBuffers(step).flat().reduce((n, x) => n + (x.inPlace ? 0 : valueBytes(x.input)), 0);
    runtime = (ARENA_FACTOR - 1) * L + spare + constantBytes(step.graph) + recomputeExtra;
  } else {
    runtime = (L - gradients - activations) + (ARENA_FACTOR - 1) * L + (JS_SETS - 1) * fed + constantBytes(step.graph) + recomputeExtra;
  }
  const parts: MemoryParts = {
    weights: f32 * W - adopted,
    parameters: f32 * N,
    optimizerState: f32 * s * N,
    gradients,
    activations,
    runtime: Math.round(runtime),
    l2spAnchors: 0,
    validation: input.validation ? validationBytes(model, shapes.loraTargets, plan.batchSize, seqLen) : 0,
    baseline: BASELINE_BYTES,
  };
  const peakBytes = Object.values(parts).reduce((a, b) => a + b, 0);
  return { peakBytes, parts, basis: { parameters: W, trainedParameters: N, batchSize: plan.batchSize, seqLen, accumulation: plan.accumulation, device: args.device } };
}

/** Bytes of one layer's attention probabilities [B, H, T, T]: the largest rank-4 Softmax, Loop bodies included. */
function attentionScoreBytes(g: Graph): number {
  let most = 0;
  for (const n of g.nodes) {
    if (n.op === 'Softmax' && n.outputs[0].shape.length === 4) most = Math.max(most, valueBytes(n.outputs[0]));
    for (const a of Object.values(n.attrs)) if (a.kind === 'graph') most = Math.max(most, attentionScoreBytes(a.v));
  }
  return most;
}

/** The eval session's arena and, with LoRA, the merged weights (the trained ones are fed as they are: TrainedParameters.current). */
function validationBytes(model: CausalLM, loraTargets: { inDim: number; outDim: number }[], batchSize: number, seqLen: number): number {
  const g = evalLossGraph(model, batchSize, seqLen).graph;
  const merged = loraTargets.reduce((n, t) => n + 4 * t.inDim * t.outDim, 0);
  return Math.round(ARENA_FACTOR * graphPeak(g).peakBytes) + constantBytes(g) + merged;
}
