// An experiment that failed before any variant took a training step holds nothing worth keeping (the
// prepared data and the base model's figures are made again in seconds): Fine-tune model removes its
// folder instead of leaving an empty experiment in the view. No vscode import: tested without it.

import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RUN_FILES, readExperiment } from '../engine';

/** True when no variant of the experiment in `dir` recorded a step (metrics.jsonl empty or absent). */
export function nothingTrained(dir: string): boolean {
  let runDirs: string[];
  try {
    runDirs = readExperiment(dir).variants.map((v) => join(dir, v.runDir));
  } catch {
    return false; // not an experiment we can read: not ours to remove
  }
  return runDirs.every((r) => {
    const metrics = join(r, RUN_FILES.metrics);
    return !existsSync(metrics) || statSync(metrics).size === 0;
  });
}

/** Removes the experiment folder when nothing was trained in it; true when it did. */
export function removeIfNothingTrained(dir: string): boolean {
  if (!nothingTrained(dir)) return false;
  rmSync(dir, { recursive: true, force: true });
  return true;
}
