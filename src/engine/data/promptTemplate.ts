// The Q&A prompt template: text with one {question} and one {answer} ({{ and }} are literal braces).
// Everything from {answer} on is the answer: it carries the loss; what comes before is the prompt.
import { DataError } from './dataError';
import type { TrainPiece } from './exampleEncoder';

/** The reference format of the design: the model sees "Q: ...\nA:" and learns to continue with the answer. */
export const DEFAULT_PROMPT_TEMPLATE = 'Q: {question}\nA: {answer}';

export interface PromptTemplate {
  readonly text: string;
  readonly beforeQuestion: string;
  readonly beforeAnswer: string;
  readonly afterAnswer: string;
}

export function parsePromptTemplate(text: string, origin = 'the template'): PromptTemplate {
  const fail = (problem: string) => new DataError({
    code: 'settings', file: origin, problem,
    fix: `write a template with one {question} and, after it, one {answer}, e.g. ${JSON.stringify(DEFAULT_PROMPT_TEMPLATE)}; use {{ and }} for literal braces`,
  });
  const parts: string[] = [];
  const names: string[] = [];
  let literal = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if ((c === '{' || c === '}') && text[i + 1] === c) { literal += c; i++; continue; }
    if (c === '}') throw fail(`a lone } at character ${i + 1}`);
    if (c !== '{') { literal += c; continue; }
    const end = text.indexOf('}', i);
    if (end < 0) throw fail(`a { at character ${i + 1} is never closed`);
    const name = text.slice(i + 1, end);
    if (name !== 'question' && name !== 'answer') throw fail(`unknown placeholder {${name}}: the placeholders are {question} and {answer}`);
    parts.push(literal);
    names.push(name);
    literal = '';
    i = end;
  }
  parts.push(literal);
  if (names.length !== 2 || names[0] !== 'question' || names[1] !== 'answer') {
    throw fail(`the template has ${names.length ? names.map((n) => `{${n}}`).join(', ') : 'no placeholders'}; it needs {question} once, then {answer} once`);
  }
  return { text, beforeQuestion: parts[0]!, beforeAnswer: parts[1]!, afterAnswer: parts[2]! };
}

/** Template text is trusted (a special-token string in it is the control token); the user's text is not. */
export function promptPieces(t: PromptTemplate, question: string, answer: string): TrainPiece[] {
  const pieces: TrainPiece[] = [];
  if (t.beforeQuestion) pieces.push({ text: t.beforeQuestion, trusted: true, train: false });
  pieces.push({ text: question, train: false });
  if (t.beforeAnswer) pieces.push({ text: t.beforeAnswer, trusted: true, train: false });
  pieces.push({ text: answer, train: true });
  if (t.afterAnswer) pieces.push({ text: t.afterAnswer, trusted: true, train: true });
  return pieces;
}
