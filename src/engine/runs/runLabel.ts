// label.json: a name a person gave a run or an experiment ("Rename" in the Experiments view). The
// folder keeps its name (other files point at it: an experiment's variants, config.json's links), and
// the trainer never writes this file, so a rename while the run trains cannot race with it.

import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../fsAtomic';
import { Rule, nonEmptyText, object, oneOf, timestamp } from './jsonRule';
import { RUN_FILES, readJsonFile } from './runFolder';

export const LABEL_FORMAT = 'ftlab-label';

export interface RunLabel {
  format: typeof LABEL_FORMAT;
  label: string;
  renamedAt: string;
}

export const runLabelRule: Rule<RunLabel> = object<RunLabel>({ format: oneOf(LABEL_FORMAT), label: nonEmptyText, renamedAt: timestamp });

/** Labels are one line, short enough for a tree item. */
export const MAX_LABEL_LENGTH = 80;

/** Why `label` cannot be a label, or undefined when it can (an empty one removes the label). */
export function labelProblem(label: string): string | undefined {
  const t = label.trim();
  if (/[\r\n]/.test(label)) return 'a label is one line';
  if (t.length > MAX_LABEL_LENGTH) return `a label has at most ${MAX_LABEL_LENGTH} characters (this one has ${t.length})`;
  return undefined;
}

/** The label of the run or experiment in `dir`, checked; undefined when it has none. */
export function readRunLabel(dir: string): string | undefined {
  const file = join(dir, RUN_FILES.label);
  if (!existsSync(file)) return undefined;
  return readJsonFile(file, runLabelRule, { fix: 'rename the run again (Rename in the Experiments view), or delete the file' }).label;
}

/** Sets the label (trimmed); an empty label removes it, and the folder's name shows again. */
export function writeRunLabel(dir: string, label: string, now: Date = new Date()): void {
  const problem = labelProblem(label);
  if (problem) throw new RangeError(problem);
  const file = join(dir, RUN_FILES.label);
  if (!label.trim()) {
    rmSync(file, { force: true });
    return;
  }
  const value: RunLabel = { format: LABEL_FORMAT, label: label.trim(), renamedAt: now.toISOString() };
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}
