// Before a run allocates anything: its estimated peak against the memory available, and when it does
// not fit, what would (a smaller batch, shorter sequences, LoRA), each with its own estimate. The
// error carries a code and the numbers; each surface words the changes in its own terms (flags in
// the CLI, settings in VS Code).

import { AvailableMemory } from './availableMemory';
import { MemoryEstimate, MemoryEstimateInput, estimateTrainingMemory } from './memoryEstimate';
import { LORA_DEFAULT_TARGETS } from '../train/lora';

export interface MemorySuggestion {
  /**
   * checkpointing: gradient checkpointing on (the same results, more time per step); batch: per-device
   * batch size; seqLen: tokens per row (shorter examples); lora: LoRA rank 8 on the default modules.
   */
  change: 'checkpointing' | 'batch' | 'seqLen' | 'lora';
  /** The new batch size or sequence length (absent for lora). */
  value?: number;
  peakBytes: number;
  fits: boolean;
}

export interface MemoryCheck {
  estimate: MemoryEstimate;
  /** null where the system reports nothing: no refusal then. */
  available: AvailableMemory | null;
  fits: boolean;
}

export function formatBytes(n: number): string {
  return n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(2)} GiB` : `${Math.round(n / 2 ** 20)} MiB`;
}

/** One line: the peak and its parts. */
export function describeEstimate(e: MemoryEstimate): string {
  const parts = Object.entries(e.parts).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${formatBytes(v)}`).join(', ');
  return `about ${formatBytes(e.peakBytes)} at the peak (${parts})`;
}

export class MemoryEstimateError extends Error {
  override readonly name = 'MemoryEstimateError';
  readonly code = 'memory-estimate-exceeds-available';
  constructor(readonly data: { estimate: MemoryEstimate; available: AvailableMemory; suggestions: MemorySuggestion[] }) {
    const { estimate, available, suggestions } = data;
    const ways = suggestions.map((s) => (s.change === 'lora' ? 'LoRA adapters instead' : s.change === 'checkpointing' ? 'gradient checkpointing'
      : `${s.change === 'batch' ? 'batch size' : 'sequence length'} ${s.value}`) + ` (${formatBytes(s.peakBytes)})`);
    super(`the run needs ${describeEstimate(estimate)}, more than the ${formatBytes(available.bytes)} available (${available.source})` +
      (ways.length ? `; lower it: ${ways.join(', ')}` : ''));
  }
}

/** Smaller settings that fit, the first of each kind found (or the smallest tried when none does). */
export function memorySuggestions(input: MemoryEstimateInput, availableBytes: number): MemorySuggestion[] {
  const out: MemorySuggestion[] = [];
  // First what changes no result: recomputing each block in the backward pass instead of keeping it.
  if (!input.args.gradientCheckpointing) {
    const peakBytes = estimateTrainingMemory({ ...input, args: { ...input.args, gradientCheckpointing: true } }).peakBytes;
    if (peakBytes < estimateTrainingMemory(input).peakBytes) out.push({ change: 'checkpointing', peakBytes, fits: peakBytes <= availableBytes });
  }
  const tryDown = (change: 'batch' | 'seqLen', from: number, min: number, with_: (v: number) => MemoryEstimateInput) => {
    let last: MemorySuggestion | null = null;
    for (let v = Math.floor(from / 2); v >= min; v = Math.floor(v / 2)) {
      const peakBytes = estimateTrainingMemory(with_(v)).peakBytes;
      last = { change, value: v, peakBytes, fits: peakBytes <= availableBytes };
      if (last.fits) break;
    }
    if (last) out.push(last);
  };
  tryDown('batch', input.args.perDeviceTrainBatchSize, 1, (b) => ({ ...input, args: { ...input.args, perDeviceTrainBatchSize: b } }));
  tryDown('seqLen', input.seqLen, Math.min(64, Math.floor(input.seqLen / 2)), (t) => ({ ...input, seqLen: t }));
  if (input.strategy.kind !== 'lora') {
    const lora = { rank: 8, alpha: 16, targetModules: LORA_DEFAULT_TARGETS[input.model.family] };
    const peakBytes = estimateTrainingMemory({ ...input, strategy: { kind: 'lora' }, lora, args: { ...input.args, l2spWeight: 0 } }).peakBytes;
    out.push({ change: 'lora', peakBytes, fits: peakBytes <= availableBytes });
  }
  return out;
}

/**
 * The estimate against `available`: returns the check when it fits (or nothing reports memory, or
 * `ignore`), else throws MemoryEstimateError with the suggestions.
 */
export function checkTrainingMemory(input: MemoryEstimateInput, available: AvailableMemory | null, ignore = false): MemoryCheck {
  const estimate = estimateTrainingMemory(input);
  const fits = available === null || estimate.peakBytes <= available.bytes;
  if (!fits && !ignore) throw new MemoryEstimateError({ estimate, available: available!, suggestions: memorySuggestions(input, available!.bytes) });
  return { estimate, available, fits };
}
