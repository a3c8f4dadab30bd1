// Which lines of a document are prompts to test, and the prompt each becomes: a `Q:` line (Markdown,
// plain text, an untitled file), or a record of a Q&A data file (.jsonl: its question, instruction or
// prompt field), asked in the template the runs trained on ("Q: {question}\nA:"). No vscode import.

const Q_LINE = /^\s*Q:\s*\S/;
const QUESTION_FIELDS = ['question', 'instruction', 'prompt', 'input'] as const;

/** The question of a JSONL record, or undefined when the line is not one. */
function recordQuestion(text: string): string | undefined {
  const t = text.trim();
  if (!t.startsWith('{')) return undefined;
  try {
    const o = JSON.parse(t) as Record<string, unknown>;
    for (const k of QUESTION_FIELDS) if (typeof o[k] === 'string' && (o[k] as string).trim()) return (o[k] as string).trim();
  } catch {
    return undefined; // not JSON (the Problems panel says why)
  }
  return undefined;
}

/** The prompt of a line that has a CodeLens: a Q: line or a data record; undefined for other lines. */
export function promptOfLine(text: string): { question: string; prompt: string } | undefined {
  if (Q_LINE.test(text)) {
    const question = text.trim();
    return { question, prompt: `${question}\nA:` };
  }
  const q = recordQuestion(text);
  return q ? { question: `Q: ${q}`, prompt: `Q: ${q}\nA:` } : undefined;
}

/** The prompt of a selection or any line the user asks about: its Q: form when it has one, else as written. */
export function promptOfText(text: string): { question: string; prompt: string } | undefined {
  const question = text.trim();
  if (!question) return undefined;
  return promptOfLine(question) ?? { question, prompt: question };
}

/** Answers shown after the line are cut to this many characters; the hover has them whole. */
export const INLINE_ANSWER_CHARS = 80;

export function shortened(text: string, max = INLINE_ANSWER_CHARS): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
