// tools/corpus/facts.json, the facts the corpus states and the demo asks about: no duplicates, no
// conflicts, and where a reference exists outside the file (the calendar, the periodic table, the
// planets' order), the facts agree with it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PACKAGE_ROOT } from '../../src/engine/builtin';

interface Country { name: string; article?: string; capital: string; continent?: string; language?: string; currency?: string; largestCity?: string }
interface Explicit { id: string; subject: string; statements: string[]; question: string; answer: string; prompt: string; completion: string }
interface Facts {
  countries: Country[];
  books: { title: string; author: string }[];
  paintings: { title: string; painter: string }[];
  music: { work: string; composer: string }[];
  discoveries: { person: string; verb: string; thing: string }[];
  people: Explicit[];
  misc: Explicit[];
  elements: { name: string; symbol: string; number: number }[];
  planets: string[];
  landmarks: { name: string; place: string; placeKind: string }[];
  animalYoung: { animal: string }[];
  animalSounds: { animal: string }[];
  animalGroups: { animals: string }[];
  animalLegs: { animal: string; legs: string }[];
  animalHomes: { animals: string }[];
  animalClasses: { animal: string }[];
  colors: { subject: string; color: string }[];
  opposites: [string, string][];
  shapes: { shape: string; sides: string }[];
  units: { count: string; small: string; big: string }[];
  days: string[];
  months: { name: string; days: string }[];
  arithmetic: Record<string, { min: number; max: number }>;
}

const facts = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'tools', 'corpus', 'facts.json'), 'utf8')) as Facts;

function assertUnique(values: readonly string[], what: string): void {
  const seen = new Set<string>();
  const twice = values.filter((v) => (seen.has(v.toLowerCase()) ? true : (seen.add(v.toLowerCase()), false)));
  assert.deepEqual(twice, [], `${what} listed twice`);
}

test('countries: each once, one capital each, no capital shared, continents from the seven', () => {
  assert.ok(facts.countries.length >= 150, `${facts.countries.length} countries`);
  assertUnique(facts.countries.map((c) => c.name), 'country');
  assertUnique(facts.countries.map((c) => c.capital), 'capital');
  const continents = new Set(['Africa', 'Antarctica', 'Asia', 'Australia', 'Europe', 'North America', 'South America']);
  for (const c of facts.countries) {
    if (c.continent) assert.ok(continents.has(c.continent), `${c.name}: ${c.continent}`);
    assert.ok(c.article === undefined || c.article === 'the', c.name);
    assert.notEqual(c.largestCity, c.capital, `${c.name}: the largest city is only given where it is not the capital`);
  }
});

test('works and discoveries: each title once, in its own category and across categories', () => {
  assert.ok(facts.books.length >= 100 && facts.paintings.length >= 55 && facts.music.length >= 30);
  assertUnique(facts.books.map((b) => b.title), 'book');
  assertUnique(facts.paintings.map((p) => p.title), 'painting');
  assertUnique(facts.music.map((m) => m.work), 'piece of music');
  assertUnique(facts.discoveries.map((d) => d.thing), 'discovery');
  const strip = (t: string) => t.replace(/^(the|a|an) /i, '');
  assertUnique([...facts.books.map((b) => strip(b.title)), ...facts.paintings.map((p) => strip(p.title)), ...facts.music.map((m) => strip(m.work))], 'title');
  assertUnique(facts.landmarks.map((l) => l.name), 'landmark');
});

// Symbols 1..94 and English names (IUPAC), the reference for the elements.
const SYMBOLS = `H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh
  Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu`.split(/\s+/);
const NAMES = `hydrogen helium lithium beryllium boron carbon nitrogen oxygen fluorine neon sodium magnesium aluminium silicon phosphorus sulfur
  chlorine argon potassium calcium scandium titanium vanadium chromium manganese iron cobalt nickel copper zinc gallium germanium arsenic
  selenium bromine krypton rubidium strontium yttrium zirconium niobium molybdenum technetium ruthenium rhodium palladium silver cadmium
  indium tin antimony tellurium iodine xenon caesium barium lanthanum cerium praseodymium neodymium promethium samarium europium gadolinium
  terbium dysprosium holmium erbium thulium ytterbium lutetium hafnium tantalum tungsten rhenium osmium iridium platinum gold mercury
  thallium lead bismuth polonium astatine radon francium radium actinium thorium protactinium uranium neptunium plutonium`.split(/\s+/);

test('elements agree with the periodic table', () => {
  assert.equal(SYMBOLS.length, 94);
  assert.equal(NAMES.length, 94);
  assertUnique(facts.elements.map((e) => e.name), 'element');
  for (const e of facts.elements) {
    assert.equal(SYMBOLS[e.number - 1], e.symbol, `${e.name}: symbol`);
    assert.equal(NAMES[e.number - 1], e.name, `${e.name}: atomic number ${e.number}`);
  }
});

test('planets, days and months agree with astronomy and the calendar', () => {
  assert.deepEqual(facts.planets, ['Mercury', 'Venus', 'Earth', 'Mars', 'Jupiter', 'Saturn', 'Uranus', 'Neptune']);
  // 1 January 2024 was a Monday
  const weekday = (i: number) => new Date(Date.UTC(2024, 0, 1 + i)).toLocaleDateString('en-US', { weekday: 'long', timeZone: 'UTC' });
  assert.deepEqual(facts.days, [0, 1, 2, 3, 4, 5, 6].map(weekday));
  facts.months.forEach((m, i) => {
    assert.equal(m.name, new Date(Date.UTC(2023, i, 1)).toLocaleDateString('en-US', { month: 'long', timeZone: 'UTC' }));
    const days = (year: number) => new Date(Date.UTC(year, i + 1, 0)).getUTCDate();
    const want = days(2023) === days(2024) ? String(days(2023)) : `${days(2023)}, or ${days(2024)} in a leap year`;
    assert.equal(m.days, want, m.name);
  });
});

test('shapes, units and legs are counted right', () => {
  const n = (w: string) => ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'].indexOf(w);
  const sides: Record<string, number> = { triangle: 3, square: 4, rectangle: 4, pentagon: 5, hexagon: 6, heptagon: 7, octagon: 8, nonagon: 9, decagon: 10 };
  for (const s of facts.shapes) assert.equal(n(s.sides), sides[s.shape], s.shape);
  const perBig: Record<string, number> = {
    'seconds/a minute': 60, 'minutes/an hour': 60, 'hours/a day': 24, 'days/a week': 7, 'months/a year': 12, 'weeks/a year': 52,
    'days/a year that is not a leap year': 365, 'days/a leap year': 366, 'years/a decade': 10, 'years/a century': 100,
    'years/a millennium': 1000, 'centimeters/a meter': 100, 'meters/a kilometer': 1000, 'grams/a kilogram': 1000,
    'milliliters/a liter': 1000, 'inches/a foot': 12, 'feet/a yard': 3,
  };
  for (const u of facts.units) assert.equal(Number(u.count), perBig[`${u.small}/${u.big}`], `${u.small} in ${u.big}`);
  assertUnique(facts.units.map((u) => `${u.small}/${u.big}`), 'unit');
  for (const a of facts.animalLegs) assert.ok(n(a.legs) >= 2, `${a.animal}: ${a.legs}`);
});

test('opposites: each word has exactly one opposite', () => {
  const words = facts.opposites.flat();
  assertUnique(words, 'a word with two opposites:');
  for (const [a, b] of facts.opposites) assert.notEqual(a, b);
});

test('animals, colors: one fact per animal and question', () => {
  assertUnique(facts.animalYoung.map((a) => a.animal), 'baby animal');
  assertUnique(facts.animalSounds.map((a) => a.animal), 'animal sound');
  assertUnique(facts.animalGroups.map((a) => a.animals), 'animal group');
  assertUnique(facts.animalLegs.map((a) => a.animal), 'animal legs');
  assertUnique(facts.animalHomes.map((a) => a.animals), 'animal home');
  assertUnique(facts.animalClasses.map((a) => a.animal), 'animal class');
  assertUnique(facts.colors.map((c) => c.subject), 'color');
});

test('explicit facts: the answer is in every statement, the statements are not questions, the question is', () => {
  const all = [...facts.people, ...facts.misc];
  assertUnique(all.map((e) => e.id), 'fact id');
  assertUnique(all.map((e) => e.question), 'question');
  for (const e of all) {
    assert.ok(e.statements.length >= 3, e.id);
    for (const s of e.statements) {
      assert.ok(s.toLowerCase().includes(e.answer.toLowerCase()), `${e.id}: "${s}" does not say ${e.answer}`);
      assert.ok(!s.includes('?') && /[.]$/.test(s), `${e.id}: "${s}"`);
    }
    assert.ok(e.statements.some((s) => s.toLowerCase().includes(e.subject.toLowerCase())), `${e.id}: no statement names "${e.subject}"`);
    assert.ok(e.question.endsWith('?') && e.completion.startsWith(' '), e.id);
    assert.ok(e.statements.some((s) => s.startsWith(e.prompt)), `${e.id}: the prompt is not the start of a statement`);
  }
});

test('arithmetic ranges stay small', () => {
  for (const [op, r] of Object.entries(facts.arithmetic)) assert.ok(r.min >= 0 && r.max <= 12 && r.min <= r.max, op);
});
