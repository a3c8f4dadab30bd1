// Errors a training run can meet that the user can act on (out of memory, a diverged loss, a run with
// no steps left), as a code, the problem and a fix whose settings are `{{option}}` placeholders: the
// CLI words it with its flags, VS Code with its pickers and settings (optionWords.ts). status.json
// keeps the problem and the fix template, so the surface that reads a failed run words it too.

import { NO_OPTION_WORDS, OptionWords, wordFix } from '../optionWords';

export type TrainingErrorCode = 'out-of-memory' | 'loss-diverged' | 'steps-done';

export interface TrainingErrorInit {
  code: TrainingErrorCode;
  /** What went wrong, with the numbers (step, batch, learning rate). */
  problem: string;
  /** What to do; options as `[[... {{option}} ...]]` (see wordFix). */
  fix: string;
}

export class TrainingError extends Error {
  override readonly name: string = 'TrainingError';
  readonly code: TrainingErrorCode;
  readonly problem: string;
  /** The fix as written, with its option mentions (wordFix). */
  readonly fixText: string;

  constructor(init: TrainingErrorInit) {
    super(joinFix(init.problem, wordFix(init.fix, NO_OPTION_WORDS)));
    this.code = init.code;
    this.problem = init.problem;
    this.fixText = init.fix;
  }

  /** The problem and the fix in a surface's words. */
  describe(words: OptionWords): string {
    return joinFix(this.problem, wordFix(this.fixText, words));
  }
}

/** One sentence: the problem, then what to do. */
export function joinFix(problem: string, fix: string): string {
  return `${problem}; ${fix}`;
}

export class OutOfMemoryError extends TrainingError {
  override readonly name = 'OutOfMemoryError';
}
