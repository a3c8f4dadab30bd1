// The demo's evaluation sets, drawn from the same fact records as the corpus:
//   qa.jsonl           question/answer pairs: the facts are stated in the corpus, the questions are not
//                      (the corpus has no questions about facts), so fine-tuning teaches the format
//   general_eval.jsonl prompt/completion pairs on *other* facts (none is asked in qa.jsonl): what the
//                      base model knows before fine-tuning and should still know after it
// Each group gives a fixed number of facts to each set; which facts is decided by the seed.
import { SeededRandom } from './seededRandom.mjs';

/** [Q&A pairs, general evaluation prompts] per group. */
export const QUOTAS = {
  capitals: [70, 30], continents: [15, 8], languages: [10, 5], currencies: [10, 5], largestCities: [4, 2],
  books: [45, 20], paintings: [25, 10], music: [15, 8], discoveries: [15, 8], people: [5, 3],
  elements: [20, 10], elementNumbers: [0, 4], planets: [6, 3], landmarks: [12, 6], animals: [30, 15],
  colors: [10, 5], opposites: [25, 15], shapes: [4, 2], units: [6, 3], calendar: [10, 6], misc: [30, 15],
  arithmetic: [40, 20],
};

export function demoSets(records, seed) {
  const rng = SeededRandom.forPart(seed, 'demo');
  const byGroup = new Map();
  for (const r of records) byGroup.set(r.group, [...(byGroup.get(r.group) ?? []), r]);
  const qa = [];
  const general = [];
  for (const [group, [nQa, nGeneral]] of Object.entries(QUOTAS)) {
    const list = rng.shuffled(byGroup.get(group) ?? []);
    if (list.length < nQa + nGeneral) throw new Error(`group ${group} has ${list.length} facts, fewer than ${nQa} + ${nGeneral}`);
    for (const r of list.slice(0, nQa)) {
      qa.push({ question: rng.pick(r.questions), answer: r.answer, category: group, subject: r.subject, fact: r.id });
    }
    for (const r of list.slice(nQa, nQa + nGeneral)) {
      general.push({ prompt: r.prompt, completion: r.completion, answer: r.answer, category: group, subject: r.subject, fact: r.id });
    }
  }
  return { qa: rng.shuffled(qa), general: rng.shuffled(general) };
}
