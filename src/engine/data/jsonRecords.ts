// JSON Lines (one record per line) and JSON arrays ([{...}, {...}]), both streamed: an array is split
// into its elements by a byte scanner (strings, escapes and nesting tracked), and each element is parsed
// on its own, so a 1 GB array needs no more memory than its largest record.
import { isUtf8 } from 'node:buffer';
import { DataError } from './dataError';
import { invalidUtf8, readChunks, readLines, type SourceDigest } from './lineReader';
import type { SourceRecord } from './recordReader';

const MAX_RECORD_BYTES = 64 << 20;

export async function* readJsonLines(file: string, digest?: SourceDigest): AsyncGenerator<SourceRecord | DataError> {
  for await (const item of readLines(file, digest)) {
    if (item instanceof DataError) { yield item; continue; }
    const text = item.text;
    if (text.trim() === '') continue;
    try {
      yield { file, line: item.line, value: JSON.parse(text) };
    } catch (error) {
      yield jsonError(file, item.line, text, error);
    }
  }
}

/** A DataError for JSON.parse failing on `text`, which starts on `line`: where and why, in words. */
export function jsonError(file: string, line: number, text: string, error: unknown): DataError {
  const found = jsonSyntaxError(text) ?? { at: text.length, problem: error instanceof Error ? error.message : String(error) };
  const before = text.slice(0, found.at);
  const nl = before.lastIndexOf('\n');
  const lineOf = line + (before.match(/\n/g)?.length ?? 0);
  const trimmed = text.trim();
  let fix = 'write each record as one JSON object, e.g. {"question": "...", "answer": "..."}: names and strings in double quotes, a quote inside a string as \\"';
  if (trimmed === '{' || trimmed === '[') fix = 'this looks like one JSON document spread over several lines: write one record per line (JSON Lines), or save it as a .json array';
  return new DataError({ code: 'invalid-json', file, line: lineOf, column: found.at - nl, problem: `invalid JSON at column ${found.at - nl}: ${found.problem}`, fix });
}

/**
 * The first syntax error of a JSON text (position and description), or null when it is valid JSON.
 * V8's own messages do not always give a position, and their wording changes between Node versions.
 */
const MAX_DEPTH = 10_000;
const LITERAL = /true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

export function jsonSyntaxError(t: string): { at: number; problem: string } | null {
  let i = 0;
  const ws = () => { while (i < t.length && (t[i] === ' ' || t[i] === '\t' || t[i] === '\n' || t[i] === '\r')) i++; };
  const show = (k: number) => (k >= t.length ? 'the end of the text' : JSON.stringify(t[k]));
  const unexpected = (k: number, expected: string) => {
    const c = t[k];
    const hint = c === "'" ? ' (strings need double quotes)' : c !== undefined && /[A-Za-z_]/.test(c) ? ' (text must be in double quotes)' : '';
    return { at: k, problem: k >= t.length ? `the text ends where ${expected} should be (a missing } or ], or a cut line)` : `unexpected ${show(k)} where ${expected} should be${hint}` };
  };
  const string = (): { at: number; problem: string } | null => {
    i++; // opening quote
    for (;;) {
      if (i >= t.length) return { at: i, problem: 'a string is not closed (a missing ")' };
      const c = t.charCodeAt(i);
      if (c === 34) { i++; return null; }
      if (c < 0x20) return { at: i, problem: 'a line break or tab inside a string: write it as \\n or \\t' };
      if (c === 92) {
        const e = t[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(t.slice(i + 2, i + 6))) return { at: i, problem: 'a \\u escape needs 4 hex digits' };
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else return { at: i, problem: `an invalid escape \\${e ?? ''} (a backslash in text is written \\\\)` };
        continue;
      }
      i++;
    }
  };
  // containers on a stack: '{' expects a key next, ':' a value after a key, '[' a value, ',' after a value
  const stack: ('{' | '[')[] = [];
  let afterValue = false;
  let afterComma = false;
  ws();
  for (;;) {
    ws();
    const top = stack[stack.length - 1];
    if (afterValue) {
      if (!top) break;
      if (t[i] === ',') { i++; afterValue = false; afterComma = true; if (top === '{') { ws(); if (t[i] !== '"') return t[i] === '}' ? { at: i, problem: 'a comma before } (trailing commas are not JSON)' } : unexpected(i, 'a "name"'); } continue; }
      if ((top === '{' && t[i] === '}') || (top === '[' && t[i] === ']')) { i++; stack.pop(); continue; }
      return unexpected(i, top === '{' ? 'a comma or }' : 'a comma or ]');
    }
    const c = t[i];
    if (top === '{' && !afterComma && c === '}') { i++; stack.pop(); afterValue = true; continue; }
    if (top === '[' && !afterComma && c === ']') { i++; stack.pop(); afterValue = true; continue; }
    if (top === '[' && afterComma && c === ']') return { at: i, problem: 'a comma before ] (trailing commas are not JSON)' };
    afterComma = false;
    if (top === '{') {
      // a "name": value pair
      if (c !== '"') return unexpected(i, 'a "name"');
      const e = string();
      if (e) return e;
      ws();
      if (t[i] !== ':') return unexpected(i, 'a colon');
      i++;
      ws();
    }
    const v = t[i];
    if (v === '{' || v === '[') {
      if (stack.length >= MAX_DEPTH) return { at: i, problem: `values nested more than ${MAX_DEPTH} levels deep` };
      stack.push(v);
      i++;
      continue;
    }
    if (v === '"') { const e = string(); if (e) return e; afterValue = true; continue; }
    LITERAL.lastIndex = i;
    const lit = LITERAL.exec(t);
    if (!lit) return unexpected(i, 'a value');
    i += lit[0].length;
    afterValue = true;
  }
  ws();
  if (i < t.length) return { at: i, problem: `text after the end of the JSON value: ${show(i)}` };
  return null;
}

const enum S { Start, ExpectElement, Element, Done }

export async function* readJsonArray(file: string, digest?: SourceDigest): AsyncGenerator<SourceRecord | DataError> {
  let state = S.Start as S;
  let line = 1;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let parts: Buffer[] = [];
  let partBytes = 0;
  let elementLine = 0;
  let oversized = false;
  let afterComma = false;
  let bomChecked = false;
  const finish = function* (): Generator<SourceRecord | DataError> {
    const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    parts = [];
    partBytes = 0;
    if (oversized) {
      oversized = false;
      yield new DataError({ code: 'line-too-long', file, line: elementLine, problem: `the record is larger than ${MAX_RECORD_BYTES >> 20} MB`, fix: 'split it into smaller records' });
      return;
    }
    if (!isUtf8(bytes)) { yield invalidUtf8(file, elementLine, bytes); return; }
    const text = bytes.toString('utf8');
    try {
      yield { file, line: elementLine, value: JSON.parse(text) };
    } catch (error) {
      yield jsonError(file, elementLine, text, error);
    }
  };
  for await (let chunk of readChunks(file, digest)) {
    if (!bomChecked) {
      bomChecked = true;
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
    }
    let start = state === S.Element ? 0 : -1; // where the element's bytes start in this chunk
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (state === S.Element) {
        if (c === 0x0a) line++;
        if (inString) {
          if (escaped) escaped = false;
          else if (c === 0x5c) escaped = true;
          else if (c === 0x22) inString = false;
          continue;
        }
        if (c === 0x22) inString = true;
        else if (c === 0x7b || c === 0x5b) depth++;
        else if ((c === 0x7d || c === 0x5d) && depth > 0) depth--;
        else if (depth === 0 && (c === 0x2c || c === 0x5d)) {
          appendPart(chunk.subarray(start, i));
          yield* finish();
          state = c === 0x2c ? S.ExpectElement : S.Done;
          afterComma = c === 0x2c;
        }
        continue;
      }
      if (c === 0x0a) { line++; continue; }
      if (c === 0x20 || c === 0x09 || c === 0x0d) continue;
      if (state === S.Start) {
        if (c === 0x5b) { state = S.ExpectElement; afterComma = false; continue; }
        yield notAnArray(file, line, c);
        return;
      }
      if (state === S.ExpectElement) {
        if (c === 0x5d) {
          if (afterComma) yield new DataError({ code: 'invalid-json', file, line, problem: 'a comma before the closing ] (trailing commas are not JSON)', fix: 'remove the last comma' });
          state = S.Done;
          continue;
        }
        if (c === 0x2c) {
          yield new DataError({ code: 'invalid-json', file, line, problem: 'an empty record between two commas', fix: 'remove the extra comma' });
          continue;
        }
        state = S.Element;
        start = i;
        elementLine = line;
        depth = 0;
        inString = false;
        escaped = false;
        i--; // scan this byte as part of the element
        continue;
      }
      if ((state as S) === S.Done) {
        yield new DataError({ code: 'invalid-json', file, line, problem: 'text after the closing ] of the array', fix: 'a .json file holds one array of records: remove what follows it, or merge it into the array' });
        return;
      }
    }
    if (state === S.Element) appendPart(chunk.subarray(start));
  }
  if (state === S.Start) {
    yield new DataError({ code: 'file', file, problem: 'the file is empty', fix: 'add records: [{"question": "...", "answer": "..."}]' });
  } else if (state !== S.Done) {
    if (state === S.Element) parts = [];
    yield new DataError({
      code: 'invalid-json', file, line: state === S.Element ? elementLine : line,
      problem: state === S.Element ? 'the file ends inside this record (a missing } or ", or a truncated file)' : 'the file ends before the closing ] of the array',
      fix: 'check that the file was saved completely and ends with ]',
    });
  }

  function appendPart(b: Buffer): void {
    if (oversized) return;
    partBytes += b.length;
    if (partBytes > MAX_RECORD_BYTES) { oversized = true; parts = []; return; }
    parts.push(Buffer.from(b)); // copy: chunks are not kept
  }
}

function notAnArray(file: string, line: number, c: number): DataError {
  const object = c === 0x7b;
  return new DataError({
    code: 'file', file, line,
    problem: object ? 'the file holds one JSON object, not an array of records' : 'the file does not start with [ (a JSON array of records)',
    fix: object
      ? 'put the records in an array ([{...}, {...}]), or save one record per line as .jsonl'
      : 'save the data as a JSON array, JSON Lines (.jsonl), CSV or TSV',
  });
}
