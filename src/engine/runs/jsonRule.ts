// Checked reading of JSON that other processes wrote (run folder files). Like the protocol's
// `shape<T>` guards (src/protocol/messages.ts), with one difference: a rule says *where* a value is
// wrong ("training.learningRate"), because a user has to find it in a file.
//
// `object<T>` takes one rule per field of T; the mapped type makes a rule set that forgets a field
// (optional ones included) a compile error. Extra fields are allowed: a newer writer may add some.

/** What is wrong, and where: a dotted path from the file's top ("training.learningRate", "frozen[3]"). */
export interface Mismatch {
  path: string;
  expected: string;
  /** The value found (undefined: the field is missing). */
  got: unknown;
}

/** A type guard that records the first mismatch it finds under `path`. */
export type Rule<T> = (value: unknown, path: string, found: Mismatch[]) => value is T;

function rule<T>(expected: string, test: (v: unknown) => boolean): Rule<T> {
  return (v, path, found): v is T => {
    if (test(v)) return true;
    found.push({ path, expected, got: v });
    return false;
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export const text: Rule<string> = rule('a string', (v) => typeof v === 'string');
export const nonEmptyText: Rule<string> = rule('a non-empty string', (v) => typeof v === 'string' && v.length > 0);
export const finite: Rule<number> = rule('a finite number', (v) => typeof v === 'number' && Number.isFinite(v));
/** Any number, NaN and Infinity included (a reader's reviver turns JSON's null back into NaN). */
export const anyNumber: Rule<number> = rule('a number', (v) => typeof v === 'number');
export const count: Rule<number> = rule('a whole number >= 0', (v) => Number.isInteger(v) && (v as number) >= 0);
export const wholeNumber: Rule<number> = rule('a whole number', (v) => Number.isInteger(v));
export const flag: Rule<boolean> = rule('true or false', (v) => typeof v === 'boolean');
/** An ISO 8601 date-time, as Date.toISOString writes it. */
export const timestamp: Rule<string> = rule('an ISO date-time (e.g. 2026-01-31T12:00:00.000Z)', (v) => typeof v === 'string' && !Number.isNaN(Date.parse(v)));

/** Exactly one of these values (strings or numbers). */
export function oneOf<const T extends readonly (string | number)[]>(...values: T): Rule<T[number]> {
  return rule(values.map((v) => JSON.stringify(v)).join(' | '), (v) => (typeof v === 'string' || typeof v === 'number') && values.includes(v));
}

export function optional<T>(r: Rule<T>): Rule<T | undefined> {
  return (v, path, found): v is T | undefined => v === undefined || r(v, path, found);
}

export function nullable<T>(r: Rule<T>): Rule<T | null> {
  return (v, path, found): v is T | null => v === null || r(v, path, found);
}

export function arrayOf<T>(item: Rule<T>): Rule<T[]> {
  return (v, path, found): v is T[] => {
    if (!Array.isArray(v)) {
      found.push({ path, expected: 'a list', got: v });
      return false;
    }
    return v.every((x, i) => item(x, `${path}[${i}]`, found));
  };
}

/** Checks an object field by field (stopping at the first bad one); extra fields are allowed. */
export function object<T extends object>(fields: { [K in keyof T]-?: Rule<T[K]> }): Rule<T> {
  return (v, path, found): v is T => {
    if (!isRecord(v)) {
      found.push({ path: path || '(top level)', expected: 'an object', got: v });
      return false;
    }
    return (Object.keys(fields) as (keyof T & string)[]).every((k) => fields[k](v[k], path ? `${path}.${k}` : k, found));
  };
}

/** "training.learningRate must be a finite number, got \"abc\"" / "... (it is missing)". */
export function describeMismatch(m: Mismatch): string {
  const got = m.got === undefined ? ' (it is missing)' : `, got ${truncate(JSON.stringify(m.got))}`;
  return `"${m.path}" must be ${m.expected}${got}`;
}

function truncate(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
