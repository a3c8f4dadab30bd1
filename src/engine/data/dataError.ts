// Errors a user's data can cause, worded for that user: where (file, line, field), what is wrong, what
// to do. Data preparation never lets anything else reach the user for a problem in their file.

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
  /** The field in the record, e.g. "answer" or "messages[2].content". */
  field?: string;
  /** What is wrong, without the location. */
  problem: string;
  /** What the user can do about it. */
  fix: string;
}

export class DataError extends Error {
  override readonly name = 'DataError';
  readonly code: DataErrorCode;
  readonly file: string;
  readonly line: number | undefined;
  readonly field: string | undefined;
  readonly problem: string;
  readonly fix: string;

  constructor(init: DataErrorInit) {
    super(`${where(init)}${init.problem}`);
    this.code = init.code;
    this.file = init.file;
    this.line = init.line;
    this.field = init.field;
    this.problem = init.problem;
    this.fix = init.fix;
  }

  /** Two lines: location and problem, then the fix. */
  describe(): string {
    return `${this.message}\n  fix: ${this.fix}`;
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
    const kinds = Object.entries(countsByCode).map(([k, n]) => `${n} ${k}`).join(', ');
    const shown = errors.slice(0, 10).map((e) => `  ${e.describe().replace(/\n/g, '\n  ')}`).join('\n');
    const more = count > 10 ? `\n  ... and ${count - 10} more` : '';
    super(`${count} invalid record${count === 1 ? '' : 's'} (${kinds}); nothing was written.\n${shown}${more}\n` +
      'Fix the records, or skip them with --skip-invalid (they are then listed in skipped.jsonl).');
  }
}
