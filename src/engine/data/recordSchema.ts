// What a record means: which fields hold the question and the answer (detected from the first record,
// or given), and the checks that turn a parsed record into an Example or a DataError naming the field.
import { DataError } from './dataError';

export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';
export interface ChatMessage {
  role: ChatRole;
  content: string;
}

export type Example =
  | { kind: 'qa'; question: string; answer: string }
  | { kind: 'chat'; messages: ChatMessage[] }
  /** Pre-tokenized: labels aligned with inputIds, -100 = not trained (absent = all trained). */
  | { kind: 'tokens'; inputIds: number[]; labels: number[] | undefined };

/** How records map to examples, fixed for a file from its first record (or the user's field names). */
export type FieldMapping =
  | { kind: 'qa'; question: string; answer: string; /** alpaca: appended to the question after a blank line */ input?: string }
  | { kind: 'chat'; field: string; style: 'openai' | 'sharegpt' }
  | { kind: 'tokens'; inputIds: string; labels: string; attentionMask: string };

export interface FieldNames {
  question?: string;
  answer?: string;
  messages?: string;
}

const QA_PAIRS: [string, string][] = [
  ['question', 'answer'], ['q', 'a'], ['prompt', 'completion'], ['prompt', 'response'], ['input', 'output'],
  ['query', 'response'], ['instruction', 'response'],
];

const SHAREGPT_ROLES: Record<string, ChatRole> = {
  system: 'system', human: 'user', user: 'user', gpt: 'assistant', assistant: 'assistant', model: 'assistant',
  chatgpt: 'assistant', bard: 'assistant', bing: 'assistant', tool: 'tool', function: 'tool', observation: 'tool',
};
const OPENAI_ROLES: Record<string, ChatRole> = { system: 'system', developer: 'system', user: 'user', assistant: 'assistant', tool: 'tool', function: 'tool' };

/** The fields of the first record decide the mapping; null when nothing fits (the caller reports it). */
export function detectFields(keys: readonly string[], names: FieldNames): FieldMapping | null {
  const byLower = new Map(keys.map((k) => [k.toLowerCase(), k]));
  const key = (k: string) => byLower.get(k.toLowerCase());
  if (names.messages) return { kind: 'chat', field: names.messages, style: 'openai' };
  if (names.question || names.answer) {
    return { kind: 'qa', question: names.question ?? key('question') ?? 'question', answer: names.answer ?? key('answer') ?? 'answer' };
  }
  if (key('input_ids')) return { kind: 'tokens', inputIds: key('input_ids')!, labels: key('labels') ?? 'labels', attentionMask: key('attention_mask') ?? 'attention_mask' };
  if (key('messages')) return { kind: 'chat', field: key('messages')!, style: 'openai' };
  if (key('conversations')) return { kind: 'chat', field: key('conversations')!, style: 'sharegpt' };
  if (key('instruction') && key('output')) return { kind: 'qa', question: key('instruction')!, answer: key('output')!, input: key('input') ?? 'input' };
  for (const [q, a] of QA_PAIRS) if (key(q) && key(a)) return { kind: 'qa', question: key(q)!, answer: key(a)! };
  return null;
}

export function noFieldsError(file: string, line: number, keys: readonly string[]): DataError {
  return new DataError({
    code: 'file', file, line,
    problem: `cannot tell which fields hold the question and the answer (the first record has: ${keys.length ? keys.map((k) => JSON.stringify(k)).join(', ') : 'no fields'})`,
    fix: 'name them question/answer (or q/a, prompt/completion, instruction/input/output, messages, conversations, input_ids), [[, or give them: {{fields}}]]',
  });
}

export function describeMapping(m: FieldMapping): string {
  switch (m.kind) {
    case 'qa': return m.input ? `alpaca: ${m.question} + ${m.input} -> ${m.answer}` : `${m.question} -> ${m.answer}`;
    case 'chat': return `${m.style === 'openai' ? 'chat messages (role/content)' : 'ShareGPT conversations (from/value)'} in "${m.field}"`;
    case 'tokens': return `pre-tokenized ${m.inputIds}${m.labels ? ` + ${m.labels}` : ''}`;
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`);
const wellFormed = (s: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

interface Where { file: string; line: number }

/** Checks a parsed record against the mapping. */
export function toExample(value: unknown, m: FieldMapping, at: Where, vocabSize: number): Example | DataError {
  const err = (code: 'wrong-type' | 'missing-field' | 'empty-field' | 'bad-tokens', field: string | undefined, problem: string, fix: string) =>
    new DataError({ code, file: at.file, line: at.line, field, problem, fix });
  if (!isRecord(value)) {
    return err('wrong-type', undefined, `the record is ${typeName(value)}, not an object with fields`, 'write each record as an object, e.g. {"question": "...", "answer": "..."}');
  }
  const text = (field: string, optional = false): string | DataError | undefined => {
    const v = value[field];
    if (v === undefined || v === null) {
      if (optional) return undefined;
      return err('missing-field', field, v === null ? 'is null' : 'is missing', `give every record a "${field}" with text`);
    }
    if (typeof v !== 'string') {
      const fix = typeof v === 'number' || typeof v === 'boolean' ? `write it as a string: "${field}": "${String(v)}"` : `"${field}" must be text (a string)`;
      return err('wrong-type', field, `is ${typeName(v)}, not a string`, fix);
    }
    if (!wellFormed(v)) return err('wrong-type', field, 'contains a lone surrogate escape (\\ud800-\\udfff), which is not a character', 'fix the escape sequence, or remove it');
    if (!optional && v.trim() === '') return err('empty-field', field, 'is empty', `write the ${field} text, or remove the record`);
    return v;
  };

  switch (m.kind) {
    case 'qa': {
      const q = text(m.question);
      if (q instanceof DataError) return q;
      const a = text(m.answer);
      if (a instanceof DataError) return a;
      let question = q!;
      if (m.input) {
        const extra = text(m.input, true);
        if (extra instanceof DataError) return extra;
        if (extra !== undefined && extra.trim() !== '') question = `${question}\n\n${extra}`;
      }
      return { kind: 'qa', question, answer: a! };
    }
    case 'chat': {
      const list = value[m.field];
      if (list === undefined || list === null) return err('missing-field', m.field, 'is missing', `give every record a "${m.field}" list of messages`);
      if (!Array.isArray(list)) return err('wrong-type', m.field, `is ${typeName(list)}, not a list of messages`, `write "${m.field}": [{"role": "user", "content": "..."}, {"role": "assistant", "content": "..."}]`);
      if (list.length === 0) return err('empty-field', m.field, 'is an empty list', 'add the messages of the conversation');
      // a given field name may hold either style: the first message tells
      const first: unknown = list[0];
      const style = isRecord(first) && !('role' in first) && 'from' in first ? 'sharegpt' : isRecord(first) && 'role' in first ? 'openai' : m.style;
      const [roleKey, contentKey] = style === 'openai' ? ['role', 'content'] : ['from', 'value'];
      const roles = style === 'openai' ? OPENAI_ROLES : SHAREGPT_ROLES;
      const messages: ChatMessage[] = [];
      for (let i = 0; i < list.length; i++) {
        const msg: unknown = list[i];
        const at = `${m.field}[${i}]`;
        if (!isRecord(msg)) return err('wrong-type', at, `is ${typeName(msg)}, not a message object`, `write {"${roleKey}": "user", "${contentKey}": "..."}`);
        const r = msg[roleKey];
        if (typeof r !== 'string') return err(r === undefined ? 'missing-field' : 'wrong-type', `${at}.${roleKey}`, r === undefined ? 'is missing' : `is ${typeName(r)}, not a string`, `give every message a "${roleKey}": one of ${Object.keys(roles).join(', ')}`);
        const role = roles[r.toLowerCase()];
        if (!role) return err('wrong-type', `${at}.${roleKey}`, `unknown role ${JSON.stringify(r)}`, `use one of ${Object.keys(roles).join(', ')}`);
        let c = msg[contentKey];
        if (Array.isArray(c) && c.every((p) => isRecord(p) && p['type'] === 'text' && typeof p['text'] === 'string')) {
          c = c.map((p) => (p as { text: string }).text).join('');
        }
        if (c === undefined || c === null) return err('missing-field', `${at}.${contentKey}`, c === null ? 'is null' : 'is missing', `give every message a "${contentKey}" string`);
        if (typeof c !== 'string') return err('wrong-type', `${at}.${contentKey}`, `is ${typeName(c)}, not a string`, `"${contentKey}" must be text`);
        if (!wellFormed(c)) return err('wrong-type', `${at}.${contentKey}`, 'contains a lone surrogate escape (\\ud800-\\udfff)', 'fix the escape sequence, or remove it');
        if (c.trim() === '' && role !== 'system') return err('empty-field', `${at}.${contentKey}`, 'is empty', 'write the message text, or remove the message');
        messages.push({ role, content: c });
      }
      if (!messages.some((x) => x.role === 'assistant')) {
        return err('missing-field', m.field, 'has no assistant message: nothing to learn from', `add the reply the model should give, e.g. {"${roleKey}": "${style === 'openai' ? 'assistant' : 'gpt'}", "${contentKey}": "..."}`);
      }
      return { kind: 'chat', messages };
    }
    case 'tokens': {
      const ids = value[m.inputIds];
      if (!Array.isArray(ids)) return err(ids === undefined ? 'missing-field' : 'wrong-type', m.inputIds, ids === undefined ? 'is missing' : `is ${typeName(ids)}, not a list of token ids`, `write "${m.inputIds}": [15496, 995, ...]`);
      if (ids.length < 2) return err('empty-field', m.inputIds, `has ${ids.length} token${ids.length === 1 ? '' : 's'}; an example needs at least 2`, 'remove the record');
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i];
        if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= vocabSize) {
          return err('bad-tokens', `${m.inputIds}[${i}]`, `${JSON.stringify(id)} is not a token id of this tokenizer (0 to ${vocabSize - 1})`, 'tokenize the data with the same tokenizer as the model, or give the raw text instead');
        }
      }
      const mask = value[m.attentionMask];
      if (Array.isArray(mask) && mask.some((x) => x === 0)) {
        return err('bad-tokens', m.attentionMask, 'has zeros: the record is padded', 'remove the padding (batches are padded at training time)');
      }
      const labels = value[m.labels];
      if (labels === undefined || labels === null) return { kind: 'tokens', inputIds: ids as number[], labels: undefined };
      if (!Array.isArray(labels)) return err('wrong-type', m.labels, `is ${typeName(labels)}, not a list`, `write "${m.labels}": [-100, -100, 995, ...], aligned with ${m.inputIds}`);
      if (labels.length !== ids.length) return err('bad-tokens', m.labels, `has ${labels.length} entries, ${m.inputIds} has ${ids.length}`, `give one label per input id (-100 where the position is not trained)`);
      let trained = 0;
      for (let i = 0; i < labels.length; i++) {
        const l = labels[i];
        if (l === -100) continue;
        if (l !== ids[i]) {
          return err('bad-tokens', `${m.labels}[${i}]`, `is ${JSON.stringify(l)}; a label is -100 or equal to ${m.inputIds}[${i}] (${JSON.stringify(ids[i])}): the model shifts labels itself`, `use the Hugging Face convention: labels = input_ids with -100 at ignored positions`);
        }
        if (i > 0) trained++;
      }
      if (trained === 0) return err('bad-tokens', m.labels, 'every label is -100 (after the first position): nothing to learn', 'keep the answer positions equal to their input ids');
      return { kind: 'tokens', inputIds: ids as number[], labels: labels as number[] };
    }
  }
}
