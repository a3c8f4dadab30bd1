// --device, --steps-per-run and --gradient-checkpointing, the same on every command that trains or generates.

import { UsageError } from './command';
import { choice } from './flags';
import { DEVICE_REQUESTS, resolveDevice, type DeviceRequest } from '../engine';

export const DEVICE_USAGE = `--device <auto|cpu|cuda>            auto (default): CUDA when the ONNX Runtime CUDA provider,
                                      the CUDA libraries and an NVIDIA GPU are all there, else the CPU
                                      (the reason is printed); cuda: stop with what is missing
                                      (ftlab doctor lists it, ftlab setup-cuda installs the provider)`;

export const STEPS_PER_RUN_USAGE = `--steps-per-run <k>                 optimizer steps per ONNX Runtime run (an ONNX Loop; same
                                      results as 1, bit for bit); runs end on checkpoint and
                                      evaluation steps; a stop is seen between runs (default 1)`;

export const GRADIENT_CHECKPOINTING_USAGE = `--gradient-checkpointing            recompute each transformer block in the backward pass instead
                                      of keeping its activations: less memory at long sequences (the
                                      attention scores of every layer are not kept), more time per
                                      step (the blocks run forward twice); the same results (default off)`;

/** The device asked for (auto when not given); an unknown word is a usage error. */
export function deviceRequest(value: string | undefined): DeviceRequest {
  return choice('device', value, DEVICE_REQUESTS, 'auto');
}

/**
 * Resolves the request before anything is written: throws CudaUnavailableError (worded by
 * userMessage) for a cuda that cannot work; with `say`, prints auto's one-line reason (commands whose
 * training logs it through train() pass none).
 */
export function checkDevice(request: DeviceRequest, say?: (line: string) => void): void {
  const choice = resolveDevice(request);
  if (request === 'auto') say?.(`device: ${choice.reason}`);
}

export function stepsPerRunFlag(value: number | undefined): number {
  const k = value ?? 1;
  if (!Number.isInteger(k) || k < 1) throw new UsageError(`--steps-per-run must be a whole number >= 1, got ${k}`);
  return k;
}
