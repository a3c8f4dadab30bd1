// checkpoint/trainer_state.json: where a run's checkpoint stands. Resume needs all of it (the data
// position, the seed); export and the run's status need only the step and how the run ended.

import { join } from 'node:path';
import type { CursorPosition } from '../train/batchCursor';
import type { TrainerState } from '../train/trainer';
import { Rule, anyNumber, count, finite, flag, nullable, object, optional } from './jsonRule';
import { RUN_FILES, readJsonFile } from './runFolder';

const best = optional(nullable(object<{ step: number; loss: number }>({ step: count, loss: anyNumber })));

export const trainerStateRule: Rule<TrainerState> = object<TrainerState>({
  step: count, epoch: count, batchInEpoch: count,
  replay: optional(object<CursorPosition>({ epoch: count, batchInEpoch: count })),
  loss: anyNumber, seed: finite, totalSteps: count, stoppedEarly: optional(flag), best,
});

/** What a reader of a finished or stopped run needs; checkpoints of every release have it. */
export interface CheckpointSummary {
  step: number;
  totalSteps?: number;
  /** Early stopping ended the run: its result is best/, not checkpoint/. */
  stoppedEarly?: boolean;
  best?: { step: number; loss: number } | null;
}

const summaryRule: Rule<CheckpointSummary> = object<CheckpointSummary>({ step: count, totalSteps: optional(count), stoppedEarly: optional(flag), best });

const FIX = 'the checkpoint is written by ftlab train; restore the folder, or train the run again';
/** JSON has no NaN: a loss that was NaN (no step run yet) is written as null. */
const reviveLoss = (key: string, value: unknown): unknown => (key === 'loss' && value === null ? NaN : value);

/** The trainer state of a checkpoint folder, checked field by field (for resume). */
export function readTrainerStateFile(ckptDir: string): TrainerState {
  return readJsonFile(join(ckptDir, RUN_FILES.trainerState), trainerStateRule, { fix: FIX, reviver: reviveLoss });
}

/** The step and ending of <runDir>/checkpoint (for export and status). */
export function readCheckpointSummary(runDir: string): CheckpointSummary {
  return readJsonFile(join(runDir, RUN_FILES.checkpoint, RUN_FILES.trainerState), summaryRule, {
    fix: FIX, missingFix: 'the run has not saved a checkpoint yet (it saves one at regular steps and at the end)', reviver: reviveLoss,
  });
}
