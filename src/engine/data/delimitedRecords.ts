// CSV and TSV (RFC 4180 quoting: a field that starts with " runs to the next lone ", "" is a quote, and
// a quoted field may span lines). The first row names the fields. Quoting mistakes are reported at the
// line where they happen, and parsing resumes on the next line so that one stray quote does not hide the
// rest of the file.
import { DataError } from './dataError';
import { readLines, type SourceDigest, type TextLine } from './lineReader';
import type { SourceRecord } from './recordReader';

/** A quoted field still open after this many lines or bytes is taken as a missing closing quote. */
const MAX_QUOTED_LINES = 10_000;
const MAX_QUOTED_CHARS = 16 << 20;

export async function* readDelimited(file: string, delimiter: ',' | '\t', digest?: SourceDigest): AsyncGenerator<SourceRecord | DataError> {
  const name = delimiter === ',' ? 'CSV' : 'TSV';
  const sep = delimiter === ',' ? 'a comma' : 'a tab';
  let header: string[] | null = null;
  let pending: TextLine[] = []; // lines of the record being read (replayed after a quoting error)
  let fields: string[] = [];
  let field = '';
  let inQuotes = false;
  let quoteLine = 0;
  let quotedChars = 0;

  const reset = () => { pending = []; fields = []; field = ''; inQuotes = false; quotedChars = 0; };

  const unclosed = (why: string): DataError => new DataError({
    code: 'csv-quote', file, line: quoteLine,
    problem: `the quoted field opened on this line is never closed${why}`,
    fix: 'close the quote; to put a quote inside a quoted field, double it ("")',
  });

  /** Feeds one line; returns a finished row, an error, or nothing (the record goes on). */
  function feed(l: TextLine): { row: string[]; line: number } | DataError | undefined {
    pending.push(l);
    const text = l.text;
    let i = 0;
    if (inQuotes) field += '\n';
    else if (text.indexOf('"') < 0 && fields.length === 0) {
      // fast path: no quotes anywhere in a record that starts on this line
      const row = text.split(delimiter);
      const line = pending[0]!.line;
      reset();
      return { row, line };
    }
    for (;;) {
      if (inQuotes) {
        const q = text.indexOf('"', i);
        if (q < 0) {
          field += text.slice(i);
          quotedChars += text.length - i;
          if (pending.length > MAX_QUOTED_LINES || quotedChars > MAX_QUOTED_CHARS) return unclosed(` within ${MAX_QUOTED_LINES} lines`);
          return undefined;
        }
        field += text.slice(i, q);
        if (text.charCodeAt(q + 1) === 34) { field += '"'; i = q + 2; continue; }
        inQuotes = false;
        i = q + 1;
        if (i < text.length && text[i] !== delimiter) {
          return new DataError({
            code: 'csv-quote', file, line: l.line, field: header?.[fields.length],
            problem: `unexpected text after the closing quote of field ${fields.length + 1}: ${JSON.stringify(text.slice(i, i + 20))}`,
            fix: `to put a quote inside a quoted field, double it (""); a quote closes the field only before ${sep} or the line end`,
          });
        }
        if (i >= text.length) break;
        fields.push(field);
        field = '';
        i++;
        continue;
      }
      if (text.charCodeAt(i) === 34) { // a field that starts with a quote
        inQuotes = true;
        quoteLine = l.line;
        quotedChars = 0;
        i++;
        continue;
      }
      const d = text.indexOf(delimiter, i);
      if (d < 0) { field += text.slice(i); break; }
      field += text.slice(i, d);
      fields.push(field);
      field = '';
      i = d + 1;
    }
    fields.push(field);
    const row = fields;
    const line = pending[0]!.line;
    reset();
    return { row, line };
  }

  /** Rows from lines; after a quoting error the record's later lines are read again as new records. */
  function* rows(source: readonly TextLine[]): Generator<{ row: string[]; line: number } | DataError> {
    const queue = [...source];
    while (queue.length) {
      const l = queue.shift()!;
      if (!inQuotes && fields.length === 0 && l.text.trim() === '') continue;
      const out = feed(l);
      if (out === undefined) continue;
      if (out instanceof DataError) {
        queue.unshift(...pending.slice(1));
        reset();
      }
      yield out;
    }
  }

  function* toRecords(items: Iterable<{ row: string[]; line: number } | DataError>): Generator<SourceRecord | DataError> {
    for (const item of items) {
      if (item instanceof DataError) { yield item; continue; }
      const { row, line } = item;
      if (header === null) {
        header = row.map((h) => h.trim());
        const seen = new Set<string>();
        for (const [k, h] of header.entries()) {
          if (h === '') {
            yield new DataError({ code: 'file', file, line, problem: `column ${k + 1} of the header row has no name`, fix: `name every column in the first row, e.g. question${delimiter}answer` });
            return;
          }
          if (seen.has(h)) {
            yield new DataError({ code: 'file', file, line, problem: `two columns of the header row are named "${h}"`, fix: 'give every column its own name' });
            return;
          }
          seen.add(h);
        }
        continue;
      }
      if (row.length !== header.length) {
        yield new DataError({
          code: 'csv-columns', file, line,
          problem: `${row.length} field${row.length === 1 ? '' : 's'}, but the header row has ${header.length} (${header.join(', ')})`,
          fix: `put a field that contains ${sep} between double quotes, e.g. "Paris${delimiter} France"`,
        });
        continue;
      }
      const value: Record<string, string> = {};
      for (let k = 0; k < header.length; k++) value[header[k]!] = row[k]!;
      yield { file, line, value };
    }
  }

  for await (const item of readLines(file, digest)) {
    if (item instanceof DataError) {
      // an undecodable line ends the (quoted, multi-line) record it is in
      const replay = pending.slice(1);
      if (pending.length) yield unclosed(' before a line that is not UTF-8');
      reset();
      yield item;
      for (const r of toRecords(rows(replay))) yield r;
      continue;
    }
    for (const r of toRecords(rows([item]))) {
      yield r;
      if (r instanceof DataError && r.code === 'file') return;
    }
  }
  while (inQuotes) {
    const replay = pending.slice(1);
    const err = unclosed('');
    reset();
    yield err;
    for (const r of toRecords(rows(replay))) yield r;
  }
  if (header === null) {
    yield new DataError({ code: 'file', file, problem: `the ${name} file is empty`, fix: `the first row names the fields, e.g. question${delimiter}answer; one record per row after it` });
  }
}
