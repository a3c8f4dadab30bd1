// Exact match as in SQuAD's evaluate-v1.1.py: both sides normalised, then compared whole. An output
// that merely starts with the answer ("Paris is ...") is wrong: the answer has to be all there is.

/** Python's string.punctuation (SQuAD's set) less what \p{P} already covers: $ + < = > ^ ` | ~. */
const PUNCTUATION = /[\p{P}$+<=>^`|~]/gu;
const ARTICLES = new Set(['a', 'an', 'the']);

/**
 * SQuAD's normalize_answer: lower case, punctuation removed (deleted, not spaced: "New-York" ->
 * "newyork"), the words a/an/the removed, whitespace collapsed to one space, trimmed. Beyond SQuAD's
 * ASCII set, Unicode punctuation (curly quotes, dashes, ellipsis) is removed too, so "’" and "'" agree.
 */
export function normalizeAnswer(s: string): string {
  return s.toLowerCase().replace(PUNCTUATION, '').split(/\s+/).filter((w) => w && !ARTICLES.has(w)).join(' ');
}

/**
 * True when the first line of a completion, normalised, equals the normalised answer. An answer with
 * nothing left after normalisation (e.g. "The") never matches: it would match any empty output.
 */
export function exactMatch(output: string, answer: string): boolean {
  const want = normalizeAnswer(answer);
  return want !== '' && normalizeAnswer(output.split('\n')[0]) === want;
}

/**
 * For prose prompts ("The capital of France is" -> " Paris"): the model continues the sentence, so the
 * first line, normalised, must be the answer or begin with the answer as whole words ("Paris. It is"
 * counts, "Parisian" does not). Questions use exactMatch: there the answer has to be all there is.
 */
export function continuationMatch(output: string, answer: string): boolean {
  const want = normalizeAnswer(answer);
  if (want === '') return false;
  const got = normalizeAnswer(output.split('\n')[0]);
  return got === want || got.startsWith(`${want} `);
}

/** The check an item asks for: 'exact' (questions, the default) or 'continuation' (prose prompts). */
export function matches(output: string, answer: string, kind: 'exact' | 'continuation' = 'exact'): boolean {
  return kind === 'continuation' ? continuationMatch(output, answer) : exactMatch(output, answer);
}
