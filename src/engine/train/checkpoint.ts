// checkpoint/ and best/ of a run folder: the weights, the optimizer state and where the run stood,
// enough to continue the run exactly.

import { mkdirSync, writeFileSync, renameSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ParamShape } from '../models/nn';
import { readSafetensors, writeSafetensors } from '../checkpoint/safetensors';
import { readTrainerStateFile } from '../runs/trainerState';
import { CursorPosition } from './batchCursor';
import { RunExistsError } from './runExistsError';

/** Where a run stopped: enough to continue it exactly (same data order, dropout keys, schedule). */
export interface TrainerState {
  step: number;
  epoch: number;
  /** Batches of `epoch` already consumed. */
  batchInEpoch: number;
  /** Position in the replay corpus, when one is mixed in. */
  replay?: CursorPosition;
  loss: number;
  seed: number;
  totalSteps: number;
  /** Early stopping ended the run: the run's result is best/, not this checkpoint. */
  stoppedEarly?: boolean;
  best?: { step: number; loss: number } | null;
}

export function readTrainerState(ckptDir: string): TrainerState {
  const path = join(ckptDir, 'trainer_state.json');
  if (!existsSync(path)) throw new RunExistsError(`${ckptDir} has no trainer_state.json: there is no checkpoint to resume from`);
  return readTrainerStateFile(ckptDir);
}

/**
 * checkpoint/ = model.safetensors (HF names), optimizer.safetensors (<name>.<state> per trained
 * parameter) and trainer_state.json. Written into a temp folder which then replaces the old one, so
 * a crash leaves either the old checkpoint or the new one.
 */
export async function saveCheckpoint(dir: string, params: ParamShape[], weights: Map<string, Float32Array>, state: TrainerState | Record<string, unknown>,
  optimizer?: Map<string, (Float32Array | Float64Array)[]>, names: string[] = []): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const p of params) tensors.set(p.name, { shape: p.shape, data: weights.get(p.name)! });
  await writeSafetensors(join(tmp, 'model.safetensors'), tensors, { metadata: { format: 'pt' } });
  if (optimizer) {
    const shapes = new Map(params.map((p) => [p.name, p.shape]));
    const opt = new Map<string, { shape: number[]; data: Float32Array }>();
    // The runner's own arrays (no copy: the run waits for the checkpoint); float64 state (gradient checks) as float32.
    for (const [n, bufs] of optimizer) bufs.forEach((b, k) => opt.set(`${n}.${names[k]}`, { shape: shapes.get(n)!, data: b instanceof Float32Array ? b : Float32Array.from(b) }));
    await writeSafetensors(join(tmp, 'optimizer.safetensors'), opt, { metadata: { state: names.join(',') } });
  }
  writeFileSync(join(tmp, 'trainer_state.json'), JSON.stringify(state, null, 2) + '\n');
  const old = `${dir}.old-${process.pid}`;
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(tmp, dir);
  rmSync(old, { recursive: true, force: true });
}

export async function readCheckpoint(dir: string, names: string[]): Promise<{ params: Map<string, Float32Array>; optimizer: Map<string, Float32Array[]> }> {
  const model = await readSafetensors(join(dir, 'model.safetensors'));
  const optPath = join(dir, 'optimizer.safetensors');
  if (!existsSync(optPath)) throw new RunExistsError(`${dir} has no optimizer.safetensors: this checkpoint cannot be resumed exactly`);
  const opt = await readSafetensors(optPath);
  const params = new Map([...model.tensors].map(([n, t]) => [n, t.data]));
  const optimizer = new Map<string, Float32Array[]>();
  for (const n of params.keys()) {
    const bufs = names.map((s) => opt.tensors.get(`${n}.${s}`)?.data);
    if (bufs.every((b) => b)) optimizer.set(n, bufs as Float32Array[]);
  }
  return { params, optimizer };
}

/** The weights of a checkpoint folder, or null when it has none. */
export async function readCheckpointWeights(dir: string): Promise<Map<string, Float32Array> | null> {
  if (!existsSync(join(dir, 'model.safetensors'))) return null;
  const m = await readSafetensors(join(dir, 'model.safetensors'));
  return new Map([...m.tensors].map(([n, t]) => [n, t.data]));
}
