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
