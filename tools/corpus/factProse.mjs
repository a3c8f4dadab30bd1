// The facts corpus: short paragraphs (one document each) that state every fact of facts.json several
// times, each time in a different wording, mixed with topic sentences, country profiles and
// arithmetic tables. The order is shuffled with the seed, so neighbouring paragraphs change topic.
import { capitalize, joinList, numberWords } from './englishWords.mjs';
import { SeededRandom } from './seededRandom.mjs';

/** Statements of a fact said this many times in the corpus (each time a different wording while they last). */
export const MENTIONS = { facts: 10, arithmetic: 15 };

const OPENERS = {
  capitals: ['Every country has a capital city.', 'Here are some capital cities of the world.', 'Learning the capitals of countries is a common part of geography lessons.', 'A capital city is usually where the government of a country meets.'],
  continents: ['The countries of the world are spread over several continents.', 'Geography tells us where each country lies.'],
  languages: ['People around the world speak many different languages.', 'Each country has its own main language, and some countries have several.'],
  currencies: ['Every country uses money, and many countries have their own currency.', 'When you travel abroad, you often need to change your money into the local currency.'],
  largestCities: ['The capital of a country is not always its largest city.'],
  books: ['Many great books have been written over the centuries.', 'Readers around the world still enjoy the classics of literature.', 'Here are some famous books and the writers who wrote them.'],
  paintings: ['Museums around the world hold famous paintings.', 'Here are some famous paintings and the artists who painted them.', 'Art lovers travel far to see great paintings.'],
  music: ['Classical music has many famous composers.', 'Orchestras around the world still play these famous works.'],
  discoveries: ['Inventors and scientists have changed the way we live.', 'Many discoveries in science are linked to the names of famous people.'],
  people: ['History remembers the people who did things first.', 'Some people are famous because they were the first to do something.'],
  elements: ['Every chemical element has a symbol of one or two letters.', 'Chemists use short symbols for the elements.'],
  elementNumbers: ['Each element has an atomic number, which is the number of protons in the nucleus of its atoms.'],
  planets: ['The Sun has eight planets traveling around it.', 'Astronomy is the study of the planets and the stars.'],
  landmarks: ['Some buildings and places are famous all over the world.', 'Travelers like to visit famous landmarks.'],
  animals: ['Animals are full of surprises.', 'Here are some facts about animals.', 'Children often learn these facts about animals at school.'],
  colors: ['The world is full of colors.', 'Many things have a typical color.'],
  opposites: ['Many words have opposites.', 'An opposite is a word that means the reverse of another word.'],
  shapes: ['Shapes are named after the number of sides they have.'],
  units: ['We measure time, length and weight with units.', 'Units help us count time and measure things.'],
  calendar: ['The calendar divides time into days, weeks, months and years.'],
  misc: ['Here are some facts about the world around us.', 'Science helps us understand nature.', 'Some facts are good to remember.'],
  arithmetic: ['Arithmetic is the study of numbers and of how to add, subtract and multiply them.', 'Here are some sums, differences and products.', 'Practice makes arithmetic easy.'],
  mixed: ['Here are a few things worth knowing.', 'Some facts are good to remember.', 'Here is a little general knowledge.'],
};

/** Each fact's mentions: `times` statements, cycling through a shuffled copy of its wordings. */
function mentionsOf(rec, times, rng) {
  const order = rng.shuffled(rec.statements);
  return Array.from({ length: times }, (_, i) => order[i % order.length]);
}

/**
 * An arithmetic fact's mentions: the digit form ("7 + 5 = 12") every other time, the wordings between.
 * With the digit form only as often as each wording (a quarter of 15 mentions), the model recalled 38%
 * of the sums and products from a digit prompt; every other fact, stated in prose, 93%.
 */
function arithmeticMentions(rec, times, rng) {
  const words = rng.shuffled(rec.statements.slice(1));
  return Array.from({ length: times }, (_, i) => (i % 2 === 0 ? rec.statements[0] : words[(i >> 1) % words.length]));
}

function countryProfile(c, rng) {
  const C = c.article ? `${c.article} ${c.name}` : c.name;
  const Cc = capitalize(C);
  const s = [];
  s.push(c.continent ? `${Cc} is a country in ${c.continent}.` : `${Cc} is a country.`);
  s.push(rng.pick([`Its capital is ${c.capital}.`, `The capital of ${C} is ${c.capital}.`, `Its capital city is ${c.capital}.`]));
  if (c.largestCity) s.push(`The largest city in ${C} is ${c.largestCity}.`);
  if (c.language && c.currency) {
    s.push(rng.pick([`Most people in ${C} speak ${c.language}, and they pay with the ${c.currency}.`, `The main language of ${C} is ${c.language}, and its currency is the ${c.currency}.`]));
  } else if (c.language) {
    s.push(`Most people in ${C} speak ${c.language}.`);
  } else if (c.currency) {
    s.push(`The currency of ${C} is the ${c.currency}.`);
  }
  return s.join(' ');
}

function timesTable(n) {
  const lines = [`The ${numberWords(n)} times table:`];
  for (let k = 1; k <= 12; k++) lines.push(`${k} × ${n} = ${k * n}`);
  return lines.join('\n');
}

function additionTable(n) {
  const lines = [`Adding ${numberWords(n)}:`];
  for (let k = 0; k <= 12; k++) lines.push(`${k} + ${n} = ${k + n}`);
  return lines.join('\n');
}

/**
 * @param facts parsed facts.json
 * @param records factRecords(facts)
 * @param arithmetic arithmeticRecords(facts)
 * @returns {string[]} documents
 */
export function factDocuments(facts, records, arithmetic, seed) {
  const rng = SeededRandom.forPart(seed, 'facts');
  const queues = new Map();
  for (const r of records) {
    const list = queues.get(r.group) ?? [];
    list.push(...mentionsOf(r, MENTIONS.facts, rng));
    queues.set(r.group, list);
  }
  queues.set('arithmetic', arithmetic.flatMap((r) => arithmeticMentions(r, MENTIONS.arithmetic, rng)));
  for (const [g, list] of queues) queues.set(g, rng.shuffled(list));

  const docs = [];
  const live = () => [...queues.keys()].filter((g) => queues.get(g).length > 0);
  for (let groups = live(); groups.length > 0; groups = live()) {
    if (rng.chance(0.25)) {
      const n = rng.int(3, 5);
      const parts = [];
      if (rng.chance(0.5)) parts.push(rng.pick(OPENERS.mixed));
      for (let i = 0; i < n; i++) {
        const g = rng.pick(live().length ? live() : groups);
        const q = queues.get(g);
        if (q.length) parts.push(q.pop());
      }
      docs.push(parts.join(' '));
      continue;
    }
    const g = rng.pick(groups);
    const q = queues.get(g);
    const n = Math.min(q.length, g === 'arithmetic' ? rng.int(4, 8) : rng.int(3, 6));
    const parts = [];
    if (rng.chance(0.4)) parts.push(rng.pick(OPENERS[g]));
    for (let i = 0; i < n; i++) parts.push(q.pop());
    // digit equations read better one to a line
    docs.push(g === 'arithmetic' ? parts.join('\n') : parts.join(' '));
  }
  for (const c of facts.countries) for (let i = 0; i < 2; i++) docs.push(countryProfile(c, rng));
  for (let n = 1; n <= 12; n++) docs.push(timesTable(n));
  for (let n = 0; n <= 12; n++) docs.push(additionTable(n));
  docs.push(`The days of the week are ${joinList(facts.days)}.`);
  docs.push(`The months of the year are ${joinList(facts.months.map((m) => m.name))}.`);
  docs.push(`The eight planets, in order from the Sun, are ${joinList(facts.planets)}.`);
  return rng.shuffled(docs);
}
