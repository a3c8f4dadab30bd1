// Errors a user's data can cause, worded for that user: where (file, line, field), what is wrong, what
// to do. Data preparation never lets anything else reach the user for a problem in their file.

import { NO_OPTION_WORDS, OptionWords, wordFix } from '../optionWords';

export type DataErrorCode =
  | 'file' // the file cannot be read at all: missing, unknown format, no usable field names
  | 'settings' // a preparation setting (template, split fractions, lengths) is invalid
  | 'invalid-json'
  | 'invalid-utf8'
  | 'csv-quote'
  | 'csv-columns'
  | 'line-too-long'
  | 'wrong-type'
  | 'missing-field'
  | 'empty-field'
  | 'bad-tokens'
  | 'template'
  | 'too-long'
  | 'no-answer'
  | 'duplicate'
  | 'leakage';

export interface DataErrorInit {
  code: DataErrorCode;
  file: string;
  /** 1-based line where the record starts; undefined for a problem with the whole file or a setting. */
  line?: number;
  /** 1-based column on `line` where the problem is, when the reader knows it (JSON syntax errors). */
  column?: number;
  /** The field in the record, e.g. "answer" or "messages[2].content". */
  field?: string;
  /** What is wrong, without the location. */
  problem: string;
  /** What the user can do about it; options as `[[... {{option}} ...]]` (see wordFix). */
  fix: string;
}

export class DataError extends Error {
  override readonly name = 'DataError';
  readonly code: DataErrorCode;
  readonly file: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly field: string | undefined;
  readonly problem: string;
  /** The fix with no option named (see fixIn for a surface's words). */
  readonly fix: string;
  /** The fix as written, with its option mentions (wordFix). */
  readonly fixText: string;

  constructor(init: DataErrorInit) {
    super(`${where(init)}${init.problem}`);
    this.code = init.code;
    this.file = init.file;
    this.line = init.line;
    this.column = init.column;
    this.field = init.field;
    this.problem = init.problem;
    this.fixText = init.fix;
    this.fix = wordFix(init.fix, NO_OPTION_WORDS);
  }

  /** The fix in a surface's words. */
  fixIn(words: OptionWords): string {
    return wordFix(this.fixText, words);
  }

  /** Two lines: location and problem, then the fix (in a surface's words). */
  describe(words: OptionWords = NO_OPTION_WORDS): string {
    return `${this.message}\n  fix: ${this.fixIn(words)}`;
  }

  toJSON(): { code: DataErrorCode; file: string; line?: number; field?: string; message: string; fix: string } {
    return { code: this.code, file: this.file, line: this.line, field: this.field, message: this.problem, fix: this.fix };
  }
}

function where(e: DataErrorInit): string {
  const at = e.line === undefined ? e.file : `${e.file}:${e.line}`;
  return `${at}: ${e.field ? `field "${e.field}": ` : ''}`;
}

/** Preparation stopped because records are invalid; nothing was written. */
export class DataValidationError extends Error {
  override readonly name = 'DataValidationError';
  constructor(
    /** The first errors, in file order (at most the preparation's report limit). */
    readonly errors: readonly DataError[],
    /** How many records were invalid in all. */
    readonly count: number,
    readonly countsByCode: Readonly<Partial<Record<DataErrorCode, number>>>,
  ) {
    super(describeInvalid(errors, count, countsByCode, NO_OPTION_WORDS));
  }

  /** The count, the first ten problems with their fixes, and what to do, in a surface's words. */
  describe(words: OptionWords): string {
    return describeInvalid(this.errors, this.count, this.countsByCode, words);
  }
}

function describeInvalid(errors: readonly DataError[], count: number, countsByCode: Partial<Record<DataErrorCode, number>>, words: OptionWords): string {
  const kinds = Object.entries(countsByCode).map(([k, n]) => `${n} ${k}`).join(', ');
  const shown = errors.slice(0, 10).map((e) => `  ${e.describe(words).replace(/\n/g, '\n  ')}`).join('\n');
  const more = count > 10 ? `\n  ... and ${count - 10} more` : '';
  return `${count} invalid record${count === 1 ? '' : 's'} (${kinds}); nothing was written.\n${shown}${more}\n` +
    wordFix('Fix the records[[, or skip them with {{skipInvalid}} (they are then listed in skipped.jsonl)]].', words);
}
