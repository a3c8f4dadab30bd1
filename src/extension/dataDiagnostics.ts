// Where a data error goes in the Problems panel: the engine reports the line where a record starts (and
// the column of a JSON syntax error, and the field); this finds the range on that line — the column to
// the line's end, the field's key and value in a JSON line, the field's cell in a CSV/TSV row, else the
// line's text — and words the problem and its fix for VS Code. No vscode import: tested without it.

import type { DataError } from '../engine';
import { VSCODE_OPTION_WORDS } from './optionWords';

export interface DataDiagnostic {
  /** 0-based, as VS Code counts. */
  readonly line: number;
  readonly start: number;
  readonly end: number;
  readonly message: string;
  /** The engine's error code ('invalid-json', 'missing-field', ...); 'more' for the not-listed count. */
  readonly code: string;
  readonly severity: 'error' | 'information';
}

/** The error's location, problem and fix as the fields DataError carries. */
export type ReportedError = Pick<DataError, 'code' | 'line' | 'column' | 'field' | 'problem' | 'fixIn'>;

/**
 * Diagnostics for one file's errors, on `text` (the file as it was read); `notListed` invalid records
 * beyond the reported ones get one information diagnostic on the first line.
 */
export function dataDiagnostics(errors: readonly ReportedError[], text: string, fileName: string, notListed = 0): DataDiagnostic[] {
  const lines = text.split(/\r?\n/);
  const delimiter = /\.tsv$/i.test(fileName) ? '\t' : /\.csv$/i.test(fileName) ? ',' : null;
  const header = delimiter !== null ? splitCells(lines[0] ?? '', delimiter).map((c) => unquote(c.text)) : [];
  const out: DataDiagnostic[] = errors.map((e) => {
    const line = Math.min(Math.max((e.line ?? 1) - 1, 0), Math.max(lines.length - 1, 0));
    const lineText = lines[line] ?? '';
    const range = e.line === undefined ? wholeLine(lineText)
      : e.column !== undefined ? fromColumn(lineText, e.column)
      : (e.field !== undefined && (delimiter !== null ? cellRange(lineText, delimiter, header.indexOf(e.field)) : jsonFieldRange(lineText, e.field))) || wholeLine(lineText);
    return { line, ...range, message: diagnosticMessage(e), code: e.code, severity: 'error' as const };
  });
  if (notListed > 0) {
    out.push({
      line: 0, ...wholeLine(lines[0] ?? ''), code: 'more', severity: 'information',
      message: `${notListed} more invalid record${notListed === 1 ? ' is' : 's are'} not listed here (the first ${errors.length} are): fix these and save to see the rest`,
    });
  }
  return out;
}

/** "field "answer": is a number — fix: ..." in VS Code's words. */
export function diagnosticMessage(e: ReportedError): string {
  return `${e.field ? `field "${e.field}": ` : ''}${e.problem} — fix: ${e.fixIn(VSCODE_OPTION_WORDS)}`;
}

function wholeLine(text: string): { start: number; end: number } {
  const start = text.length - text.trimStart().length;
  return { start: Math.min(start, text.length), end: Math.max(text.trimEnd().length, start + 1) };
}

function fromColumn(text: string, column: number): { start: number; end: number } {
  const start = Math.min(Math.max(column - 1, 0), text.length);
  return { start, end: Math.max(text.trimEnd().length, start + 1) };
}

/**
 * The key and value of `field` in a JSON object written on this line ("messages[2].content" is looked up
 * as "messages"); null when the key is not on the line (a missing field, a record spread over lines).
 */
export function jsonFieldRange(text: string, field: string): { start: number; end: number } | null {
  const key = field.split(/[.[]/)[0]!;
  const quoted = JSON.stringify(key);
  for (let at = text.indexOf(quoted); at >= 0; at = text.indexOf(quoted, at + 1)) {
    let i = at + quoted.length;
    while (text[i] === ' ' || text[i] === '\t') i++;
    if (text[i] !== ':') continue; // the key's text as a value somewhere, not the key
    i++;
    while (text[i] === ' ' || text[i] === '\t') i++;
    return { start: at, end: valueEnd(text, i) };
  }
  return null;
}

/** Where the JSON value starting at `i` ends (exclusive): a string, an object or array, or a literal. */
function valueEnd(text: string, i: number): number {
  let depth = 0;
  let inString = false;
  for (let k = i; k < text.length; k++) {
    const c = text[k];
    if (inString) {
      if (c === '\\') k++;
      else if (c === '"') { inString = false; if (depth === 0) return k + 1; }
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') { if (depth === 0) return k; if (--depth === 0) return k + 1; }
    else if (c === ',' && depth === 0) return k;
  }
  return Math.max(text.trimEnd().length, i + 1);
}

interface Cell { text: string; start: number; end: number }

/** The cells of one CSV/TSV line with their offsets (quotes kept; a doubled quote is a quote). */
function splitCells(text: string, delimiter: string): Cell[] {
  const cells: Cell[] = [];
  let start = 0;
  let inQuotes = false;
  for (let k = 0; k <= text.length; k++) {
    const c = text[k];
    if (c === '"') inQuotes = !inQuotes;
    else if (k === text.length || (c === delimiter && !inQuotes)) {
      cells.push({ text: text.slice(start, k), start, end: k });
      start = k + 1;
    }
  }
  return cells;
}

function unquote(s: string): string {
  const t = s.trim();
  return t.startsWith('"') && t.endsWith('"') && t.length >= 2 ? t.slice(1, -1).replace(/""/g, '"') : t;
}

function cellRange(text: string, delimiter: string, index: number): { start: number; end: number } | null {
  if (index < 0) return null;
  const cell = splitCells(text, delimiter)[index];
  if (!cell) return null;
  return cell.end > cell.start ? { start: cell.start, end: cell.end } : { start: cell.start, end: cell.start + 1 };
}
