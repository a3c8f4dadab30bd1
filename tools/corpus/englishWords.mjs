// Small pieces of English grammar the corpus generators need: number words, ordinals, a/an, plurals.
const ONES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve',
  'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
const ORDINALS = ['zeroth', 'first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth', 'ninth', 'tenth',
  'eleventh', 'twelfth'];

/** 0..999 in words, e.g. 144 -> "one hundred forty-four" (American style, no "and"). */
export function numberWords(n) {
  if (!Number.isInteger(n) || n < 0 || n > 999) throw new Error(`numberWords: ${n} is out of range`);
  if (n < 20) return ONES[n];
  if (n < 100) return TENS[Math.floor(n / 10)] + (n % 10 ? `-${ONES[n % 10]}` : '');
  return `${ONES[Math.floor(n / 100)]} hundred` + (n % 100 ? ` ${numberWords(n % 100)}` : '');
}

/** 1..12 -> "first".."twelfth". */
export function ordinalWord(n) {
  const w = ORDINALS[n];
  if (!w || n === 0) throw new Error(`ordinalWord: ${n} is out of range`);
  return w;
}

/** "a" or "an" before a word (by its first letter; good enough for the corpus' own vocabulary). */
export function article(word) {
  return /^[aeiou]/i.test(word) && !/^(one|uni|use|eu)/i.test(word) ? 'an' : 'a';
}

export function withArticle(word) {
  return `${article(word)} ${word}`;
}

/** Regular English plural / third-person singular: box -> boxes, spider -> spiders, butterfly -> butterflies. */
export function sSuffix(word) {
  if (/(s|sh|ch|x|z)$/.test(word)) return `${word}es`;
  if (/[^aeiou]y$/.test(word)) return `${word.slice(0, -1)}ies`;
  return `${word}s`;
}

export function capitalize(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** "a, b and c" */
export function joinList(items) {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
