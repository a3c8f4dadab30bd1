// Which items changed between two evaluations of the same list (before and after fine-tuning): a net
// change of +2 can be 2 items fixed, or 10 fixed and 8 broken, and the second is a different story.

export interface Flips {
  /** Indices of items wrong before and right after. */
  wrongToRight: number[];
  /** Indices of items right before and wrong after. */
  rightToWrong: number[];
  /** Items compared (the length of both lists). */
  total: number;
}

interface Judged { prompt: string; correct: boolean }

/**
 * Items are matched by index, and must be the same list: a different length or prompt at an index is
 * an error (comparing different lists would count differences that are not flips).
 */
export function flips(before: readonly Judged[], after: readonly Judged[]): Flips {
  if (before.length !== after.length) throw new Error(`cannot compare evaluations of ${before.length} and ${after.length} items: evaluate the same items before and after`);
  const out: Flips = { wrongToRight: [], rightToWrong: [], total: before.length };
  before.forEach((b, i) => {
    const a = after[i];
    if (a.prompt !== b.prompt) throw new Error(`item ${i} differs between the evaluations (prompt ${JSON.stringify(b.prompt)} before, ${JSON.stringify(a.prompt)} after): evaluate the same items in the same order`);
    if (!b.correct && a.correct) out.wrongToRight.push(i);
    if (b.correct && !a.correct) out.rightToWrong.push(i);
  });
  return out;
}
