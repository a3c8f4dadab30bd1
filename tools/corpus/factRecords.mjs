// Turns facts.json into fact records: for each fact, several plain statements (the corpus prose says
// the fact in these words), the questions the demo Q&A set may ask about it, and a prompt/completion
// pair for the general-knowledge evaluation. A statement never has the form of a question, so the
// Q&A wording is never in the corpus.
//
// Record: { id, group, subject, answer, statements: string[], questions: string[], prompt, completion }
//   subject  - the word(s) a sentence stating the fact must contain besides the answer (tests use it)
//   answer   - the Q&A answer, found verbatim in every statement
//   group    - the quota group of build.mjs (how many Q&A / evaluation items come from it)
import { article, capitalize, numberWords, ordinalWord, sSuffix, withArticle } from './englishWords.mjs';

/** "the United States" / "France" */
const countryName = (c) => (c.article ? `${c.article} ${c.name}` : c.name);
const cap = capitalize;

function check(rec) {
  for (const s of rec.statements) {
    if (!s.toLowerCase().includes(rec.answer.toLowerCase())) throw new Error(`${rec.id}: statement without the answer "${rec.answer}": ${s}`);
    if (/\?/.test(s)) throw new Error(`${rec.id}: a statement must not be a question: ${s}`);
  }
  if (!`${rec.prompt}${rec.completion}`.trim()) throw new Error(`${rec.id}: empty prompt`);
  if (!rec.completion.startsWith(' ')) throw new Error(`${rec.id}: a completion starts with a space`);
  return rec;
}

function countryRecords(c) {
  const C = countryName(c);
  const out = [];
  const A = c.capital;
  out.push({
    id: `capital/${c.name}`, group: 'capitals', subject: c.name, answer: A,
    statements: [
      `The capital of ${C} is ${A}.`, `${A} is the capital of ${C}.`, `${A} is the capital city of ${C}.`,
      `The capital city of ${C} is ${A}.`, `${cap(C)} has its capital in ${A}.`, `In ${C}, the capital city is ${A}.`,
      `${A} serves as the capital of ${C}.`, `Many visitors to ${C} spend time in ${A}, the capital.`,
      `${A}, the capital of ${C}, is one of the best-known cities in the country.`,
    ],
    questions: [`What is the capital of ${C}?`, `Which city is the capital of ${C}?`, `What is the capital city of ${C}?`],
    prompt: `The capital of ${C} is`, completion: ` ${A}`,
  });
  if (c.continent) {
    const K = c.continent;
    out.push({
      id: `continent/${c.name}`, group: 'continents', subject: c.name, answer: K,
      statements: [
        `${cap(C)} is a country in ${K}.`, `${cap(C)} is located in ${K}.`, `${cap(C)} lies in ${K}.`,
        `On a map, you can find ${C} in ${K}.`, `${cap(C)} is one of the countries of ${K}.`,
      ],
      questions: [`On which continent is ${C}?`, `Which continent is ${C} in?`],
      prompt: `${cap(C)} is a country in`, completion: ` ${K}`,
    });
  }
  if (c.language) {
    const L = c.language;
    out.push({
      id: `language/${c.name}`, group: 'languages', subject: c.name, answer: L,
      statements: [
        `Most people in ${C} speak ${L}.`, `The main language of ${C} is ${L}.`, `In ${C}, most people speak ${L}.`,
        `${L} is the main language spoken in ${C}.`,
      ],
      questions: [`What language do most people in ${C} speak?`, `What is the main language of ${C}?`],
      prompt: `The main language of ${C} is`, completion: ` ${L}`,
    });
  }
  if (c.currency) {
    const M = c.currency;
    out.push({
      id: `currency/${c.name}`, group: 'currencies', subject: c.name, answer: M,
      statements: [
        `The currency of ${C} is the ${M}.`, `In ${C}, people pay with the ${M}.`, `The ${M} is the money used in ${C}.`,
        `${cap(C)} uses the ${M} as its currency.`,
      ],
      questions: [`What is the currency of ${C}?`, `What money is used in ${C}?`],
      prompt: `The currency of ${C} is the`, completion: ` ${M}`,
    });
  }
  if (c.largestCity) {
    const B = c.largestCity;
    out.push({
      id: `largest-city/${c.name}`, group: 'largestCities', subject: c.name, answer: B,
      statements: [
        `The largest city in ${C} is ${B}, but the capital is ${A}.`, `${B} is the largest city in ${C}.`,
        `Although ${B} is the biggest city in ${C}, it is not the capital.`, `The biggest city of ${C} is ${B}.`,
      ],
      questions: [`What is the largest city in ${C}?`, `Which city is the biggest in ${C}?`],
      prompt: `The largest city in ${C} is`, completion: ` ${B}`,
    });
  }
  return out;
}

function bookRecord(b) {
  const T = b.title;
  const A = b.author;
  return {
    id: `book/${T}`, group: 'books', subject: T.replace(/^(The|A|An) /, ''), answer: A,
    statements: [
      `${cap(T)} was written by ${A}.`, `${A} wrote ${T}.`, `${cap(T)} is a famous work by ${A}.`,
      `The author of ${T} is ${A}.`, `${A} is the author of ${T}.`, `Many readers know ${T}, which ${A} wrote.`,
      `One of the best-known works of ${A} is ${T}.`, `${cap(T)} is by ${A}.`,
    ],
    questions: [`Who wrote ${T}?`, `Who is the author of ${T}?`],
    prompt: `${cap(T)} was written by`, completion: ` ${A}`,
  };
}

function paintingRecord(p) {
  const T = p.title;
  const P = p.painter;
  return {
    id: `painting/${T}`, group: 'paintings', subject: T.replace(/^(the|The|A) /, ''), answer: P,
    statements: [
      `${cap(T)} was painted by ${P}.`, `${P} painted ${T}.`, `${cap(T)} is a famous painting by ${P}.`,
      `The artist who painted ${T} was ${P}.`, `${P} is the painter of ${T}.`,
      `Visitors to art museums admire ${T}, a painting by ${P}.`, `One of the most famous paintings by ${P} is ${T}.`,
    ],
    questions: [`Who painted ${T}?`, `Which artist painted ${T}?`],
    prompt: `${cap(T)} was painted by`, completion: ` ${P}`,
  };
}

function musicRecord(m) {
  const W = m.work;
  const C = m.composer;
  const [was, is, piece] = m.plural ? ['were', 'are', 'famous pieces'] : ['was', 'is', 'a famous piece'];
  return {
    id: `music/${W}`, group: 'music', subject: W.replace(/^(the|The) (opera )?/, ''), answer: C,
    statements: [
      `${cap(W)} ${was} composed by ${C}.`, `${C} composed ${W}.`, `${cap(W)} ${is} ${piece} of music by ${C}.`,
      `The composer of ${W} was ${C}.`, `${C} wrote the music of ${W}.`, `Concert audiences still love ${W}, composed by ${C}.`,
    ],
    questions: [`Who composed ${W}?`, `Which composer wrote ${W}?`],
    prompt: `${cap(W)} ${was} composed by`, completion: ` ${C}`,
  };
}

const PARTICIPLE = { wrote: 'written' };
function discoveryRecord(d) {
  const P = d.person;
  const V = d.verb;
  const part = PARTICIPLE[V] ?? V;
  const T = d.thing;
  const was = d.plural ? 'were' : 'was';
  return {
    id: `discovery/${T}`, group: 'discoveries', subject: T.replace(/^(the|a|an) /, ''), answer: P,
    statements: [
      `${P} ${V} ${T}.`, `${cap(T)} ${was} ${part} by ${P}.`, `${P} is famous for having ${part} ${T}.`,
      `We remember ${P} as the person who ${V} ${T}.`, `It was ${P} who ${V} ${T}.`,
    ],
    questions: [`Who ${V} ${T}?`],
    prompt: `${cap(T)} ${was} ${part} by`, completion: ` ${P}`,
  };
}

function explicitRecord(e, group) {
  return {
    id: `${group}/${e.id}`, group, subject: e.subject ?? '', answer: e.answer,
    statements: e.statements, questions: [e.question], prompt: e.prompt, completion: e.completion,
  };
}

function elementRecords(e) {
  const N = e.name;
  const S = e.symbol;
  const num = String(e.number);
  return [
    {
      id: `element-symbol/${N}`, group: 'elements', subject: N, answer: S,
      statements: [
        `The chemical symbol for ${N} is ${S}.`, `${S} is the chemical symbol of ${N}.`,
        `In chemistry, ${N} is written with the symbol ${S}.`, `The element ${N} has the symbol ${S}.`,
        `Chemists write ${N} as ${S}.`,
      ],
      questions: [`What is the chemical symbol for ${N}?`, `Which symbol stands for ${N} in chemistry?`],
      prompt: `The chemical symbol for ${N} is`, completion: ` ${S}`,
    },
    {
      id: `element-number/${N}`, group: 'elementNumbers', subject: N, answer: num,
      statements: [
        `${cap(N)} has the atomic number ${num}.`, `The atomic number of ${N} is ${num}.`,
        `An atom of ${N} has ${num} ${e.number === 1 ? 'proton' : 'protons'} in its nucleus.`,
      ],
      questions: [`What is the atomic number of ${N}?`],
      prompt: `The atomic number of ${N} is`, completion: ` ${num}`,
    },
  ];
}

function planetRecord(p, i) {
  const o = ordinalWord(i + 1);
  return {
    id: `planet-order/${p}`, group: 'planets', subject: o, answer: p,
    statements: [
      `${p} is the ${o} planet from the Sun.`, `The ${o} planet from the Sun is ${p}.`,
      `Counting outward from the Sun, ${p} is planet number ${numberWords(i + 1)}.`,
      `${p} is the ${o} of the eight planets, counting from the Sun.`,
    ],
    questions: [`Which planet is ${o} from the Sun?`, `What is the ${o} planet from the Sun?`],
    prompt: `The ${o} planet from the Sun is`, completion: ` ${p}`,
  };
}

function landmarkRecord(l) {
  const N = l.name;
  const P = l.place;
  const where = { city: 'city', country: 'country', state: 'US state' }[l.placeKind];
  if (!where) throw new Error(`landmark ${N}: unknown placeKind ${l.placeKind}`);
  return {
    id: `landmark/${N}`, group: 'landmarks', subject: N.replace(/^the (statue of |ancient city of )?/, ''), answer: P,
    statements: [
      `${cap(N)} is in ${P}.`, `You can see ${N} in ${P}.`, `${P} is home to ${N}.`,
      `Visitors to ${P} often go to see ${N}.`, `${cap(N)} is one of the most famous sights of ${P}.`,
    ],
    questions: [`In which ${where} is ${N}?`, `Where can you see ${N}?`],
    prompt: `${cap(N)} is in`, completion: ` ${P}`,
  };
}

function animalRecords(f) {
  const out = [];
  for (const a of f.animalYoung) {
    const Y = a.young;
    out.push({
      id: `animal-young/${a.animal}`, group: 'animals', subject: a.animal, answer: Y,
      statements: [
        `A baby ${a.animal} is called ${withArticle(Y)}.`, `A young ${a.animal} is ${withArticle(Y)}.`,
        `The young of ${withArticle(a.animal)} is called ${withArticle(Y)}.`,
        `When ${a.plural} have babies, each baby is called ${withArticle(Y)}.`,
      ],
      questions: [`What is a baby ${a.animal} called?`, `What do we call a young ${a.animal}?`],
      prompt: `A baby ${a.animal} is called ${article(Y)}`, completion: ` ${Y}`,
    });
  }
  for (const a of f.animalSounds) {
    out.push({
      id: `animal-sound/${a.animal}`, group: 'animals', subject: a.animal, answer: a.sound,
      statements: [
        `The sound ${withArticle(a.animal)} makes is called ${withArticle(a.sound)}.`,
        `You can hear the ${a.sound} of ${withArticle(a.animal)} from far away.`,
        `${cap(withArticle(a.animal))} makes a sound called ${withArticle(a.sound)}.`,
        `When ${withArticle(a.animal)} calls out, we hear ${withArticle(a.sound)}; we say that ${a.plural} ${a.verb}.`,
      ],
      questions: [`What sound does ${withArticle(a.animal)} make?`],
      prompt: `The sound ${withArticle(a.animal)} makes is called ${article(a.sound)}`, completion: ` ${a.sound}`,
    });
  }
  for (const a of f.animalGroups) {
    out.push({
      id: `animal-group/${a.animals}`, group: 'animals', subject: a.animals, answer: a.group,
      statements: [
        `A group of ${a.animals} is called ${withArticle(a.group)}.`, `We call a group of ${a.animals} ${withArticle(a.group)}.`,
        `When many ${a.animals} are together, they form ${withArticle(a.group)}.`,
        `The word for a group of ${a.animals} is ${a.group}.`,
      ],
      questions: [`What is a group of ${a.animals} called?`],
      prompt: `A group of ${a.animals} is called ${article(a.group)}`, completion: ` ${a.group}`,
    });
  }
  for (const a of f.animalLegs) {
    const limb = a.limb ?? 'legs';
    out.push({
      id: `animal-legs/${a.animal}`, group: 'animals', subject: a.animal, answer: a.legs,
      statements: [
        `${cap(withArticle(a.animal))} has ${a.legs} ${limb}.`, `${cap(sSuffix(a.animal))} have ${a.legs} ${limb}.`,
        `Count the ${limb} of ${withArticle(a.animal)} and you will find ${a.legs}.`,
      ],
      questions: [`How many ${limb} does ${withArticle(a.animal)} have?`],
      prompt: `${cap(withArticle(a.animal))} has`, completion: ` ${a.legs} ${limb}`,
    });
  }
  for (const a of f.animalHomes) {
    out.push({
      id: `animal-home/${a.animals}`, group: 'animals', subject: a.animals, answer: a.home,
      statements: [
        `${cap(a.animals)} live in ${withArticle(a.home)}.`, `The home of ${a.animals} is called ${withArticle(a.home)}.`,
        `${cap(withArticle(a.home))} is a home for ${a.animals}.`,
      ],
      questions: [`What is the home of ${a.animals} called?`],
      prompt: `The home of ${a.animals} is called ${article(a.home)}`, completion: ` ${a.home}`,
    });
  }
  for (const a of f.animalClasses) {
    const K = a.class;
    const Ks = K === 'fish' ? 'fish' : sSuffix(K);
    out.push({
      id: `animal-class/${a.animal}`, group: 'animals', subject: a.animal, answer: K,
      statements: [
        `${cap(withArticle(a.animal))} is ${K === 'fish' ? 'a fish' : withArticle(K)}.`,
        `${cap(a.animal === 'salmon' ? 'salmon' : sSuffix(a.animal))} are ${Ks}.`,
        `The ${a.animal} belongs to the group of animals called ${Ks}.`,
      ],
      questions: [`What kind of animal is ${withArticle(a.animal)}?`],
      prompt: `The ${a.animal} belongs to the group of animals called`, completion: ` ${Ks}`,
    });
  }
  return out;
}

function colorRecords(f) {
  const out = [];
  for (const c of f.colors) {
    const T = c.thing;
    const be = c.plural ? 'are' : 'is';
    out.push({
      id: `color/${c.subject}`, group: 'colors', subject: c.subject, answer: c.color,
      statements: [
        `${cap(T)} ${be} ${c.color}.`, `The color of ${T} is ${c.color}.`,
        `If you look at ${T}, you will see that ${c.plural ? 'they are' : 'it is'} ${c.color}.`,
      ],
      questions: [`What color ${be} ${T}?`],
      prompt: `The color of ${T} is`, completion: ` ${c.color}`,
    });
  }
  for (const m of f.colorMixes) {
    out.push({
      id: `color-mix/${m.a}+${m.b}`, group: 'colors', subject: `${m.a}`, answer: m.result,
      statements: [
        `Mixing ${m.a} and ${m.b} makes ${m.result}.`, `If you mix ${m.a} paint with ${m.b} paint, you get ${m.result}.`,
        `${cap(m.a)} and ${m.b} together make ${m.result}.`,
      ],
      questions: [`What color do you get when you mix ${m.a} and ${m.b}?`],
      prompt: `Mixing ${m.a} and ${m.b} makes`, completion: ` ${m.result}`,
    });
  }
  return out;
}

function oppositeRecords(f) {
  const out = [];
  for (const [x, y] of f.opposites) {
    for (const [a, b] of [[x, y], [y, x]]) {
      out.push({
        id: `opposite/${a}`, group: 'opposites', subject: a, answer: b,
        statements: [
          `The opposite of ${a} is ${b}.`, `${cap(b)} is the opposite of ${a}.`, `${cap(a)} and ${b} are opposites.`,
          `The word ${b} means the opposite of ${a}.`,
        ],
        questions: [`What is the opposite of ${a}?`, `What word means the opposite of ${a}?`],
        prompt: `The opposite of ${a} is`, completion: ` ${b}`,
      });
    }
  }
  return out;
}

function shapeRecord(s) {
  const statements = [
    `${cap(withArticle(s.shape))} has ${s.sides} sides.`, `${cap(sSuffix(s.shape))} have ${s.sides} sides.`,
    `Count the sides of ${withArticle(s.shape)} and you will find ${s.sides}.`,
  ];
  if (s.sides !== 'four') statements.push(`A flat shape with ${s.sides} straight sides is called ${withArticle(s.shape)}.`);
  return {
    id: `shape/${s.shape}`, group: 'shapes', subject: s.shape, answer: s.sides, statements,
    questions: [`How many sides does ${withArticle(s.shape)} have?`],
    prompt: `${cap(withArticle(s.shape))} has`, completion: ` ${s.sides} sides`,
  };
}

function unitRecord(u) {
  return {
    id: `unit/${u.small} in ${u.big}`, group: 'units', subject: u.big.replace(/^(a|an) /, ''), answer: u.count,
    statements: [
      `There are ${u.count} ${u.small} in ${u.big}.`, `${cap(u.big)} has ${u.count} ${u.small}.`,
      `${cap(u.big)} is made up of ${u.count} ${u.small}.`,
    ],
    questions: [`How many ${u.small} are there in ${u.big}?`],
    prompt: `${cap(u.big)} has`, completion: ` ${u.count} ${u.small}`,
  };
}

function calendarRecords(f) {
  const out = [];
  const D = f.days;
  D.forEach((d, i) => {
    const next = D[(i + 1) % 7];
    const prev = D[(i + 6) % 7];
    out.push({
      id: `day-after/${d}`, group: 'calendar', subject: d, answer: next,
      statements: [`The day after ${d} is ${next}.`, `${next} comes after ${d}.`, `After ${d} comes ${next}.`],
      questions: [`What day comes after ${d}?`, `Which day follows ${d}?`],
      prompt: `The day after ${d} is`, completion: ` ${next}`,
    });
    out.push({
      id: `day-before/${d}`, group: 'calendar', subject: d, answer: prev,
      statements: [`The day before ${d} is ${prev}.`, `${prev} comes just before ${d}.`, `${d} comes after ${prev}.`],
      questions: [`What day comes before ${d}?`],
      prompt: `The day before ${d} is`, completion: ` ${prev}`,
    });
  });
  f.months.forEach((m, i) => {
    const o = ordinalWord(i + 1);
    const next = f.months[(i + 1) % 12].name;
    out.push({
      id: `month-order/${m.name}`, group: 'calendar', subject: o, answer: m.name,
      statements: [
        `${m.name} is the ${o} month of the year.`, `The ${o} month of the year is ${m.name}.`,
        `In the calendar, ${m.name} comes ${o}.`,
      ],
      questions: [`What is the ${o} month of the year?`, `Which month is the ${o} month of the year?`],
      prompt: `The ${o} month of the year is`, completion: ` ${m.name}`,
    });
    out.push({
      id: `month-after/${m.name}`, group: 'calendar', subject: m.name, answer: next,
      statements: [`The month after ${m.name} is ${next}.`, `After ${m.name} comes ${next}.`, `${next} follows ${m.name}.`],
      questions: [`Which month comes after ${m.name}?`],
      prompt: `The month after ${m.name} is`, completion: ` ${next}`,
    });
    // "31 days"; February: "28 days, or 29 in a leap year"
    const days = m.days.replace(/^(\d+)/, '$1 days');
    out.push({
      id: `month-days/${m.name}`, group: 'calendar', subject: m.name, answer: /^\d+$/.test(m.days) ? m.days : days,
      statements: [`${m.name} has ${days}.`, `The month of ${m.name} has ${days}.`, `${m.name} is a month with ${days}.`],
      questions: [`How many days are there in ${m.name}?`],
      prompt: `The month of ${m.name} has`, completion: ` ${days}`,
    });
  });
  return out;
}

/** Arithmetic facts: every sum, difference and product in the configured ranges, in words and digits. */
export function arithmeticRecords(f) {
  const out = [];
  const { addition, subtraction, multiplication } = f.arithmetic;
  const W = numberWords;
  for (let a = addition.min; a <= addition.max; a++) {
    for (let b = addition.min; b <= addition.max; b++) {
      const c = a + b;
      out.push({
        id: `add/${a}+${b}`, group: 'arithmetic', subject: `${a} + ${b}`, answer: String(c), op: '+', a, b, c,
        statements: [`${a} + ${b} = ${c}`, `${cap(W(a))} plus ${W(b)} is ${W(c)}.`, `If you add ${a} and ${b}, you get ${c}.`, `The sum of ${a} and ${b} is ${c}.`],
        questions: [`What is ${a} plus ${b}?`, `What is ${a} + ${b}?`],
        prompt: `${a} + ${b} =`, completion: ` ${c}`,
      });
    }
  }
  for (let a = subtraction.min; a <= subtraction.max; a++) {
    for (let b = subtraction.min; b <= subtraction.max; b++) {
      const c = a + b;
      out.push({
        id: `sub/${c}-${b}`, group: 'arithmetic', subject: `${c} - ${b}`, answer: String(a), op: '-', a: c, b, c: a,
        statements: [`${c} - ${b} = ${a}`, `${cap(W(c))} minus ${W(b)} is ${W(a)}.`, `If you take ${b} away from ${c}, you have ${a} left.`, `The difference between ${c} and ${b} is ${a}.`],
        questions: [`What is ${c} minus ${b}?`, `What is ${c} - ${b}?`],
        prompt: `${c} - ${b} =`, completion: ` ${a}`,
      });
    }
  }
  for (let a = multiplication.min; a <= multiplication.max; a++) {
    for (let b = multiplication.min; b <= multiplication.max; b++) {
      const c = a * b;
      out.push({
        id: `mul/${a}x${b}`, group: 'arithmetic', subject: `${a} × ${b}`, answer: String(c), op: '×', a, b, c,
        statements: [`${a} × ${b} = ${c}`, `${cap(W(a))} times ${W(b)} is ${W(c)}.`, `If you multiply ${a} by ${b}, you get ${c}.`, `The product of ${a} and ${b} is ${c}.`],
        questions: [`What is ${a} times ${b}?`, `What is ${a} × ${b}?`],
        prompt: `${a} × ${b} =`, completion: ` ${c}`,
      });
    }
  }
  return out;
}

/** Every fact record of facts.json except arithmetic, in file order. */
export function factRecords(f) {
  const out = [
    ...f.countries.flatMap(countryRecords),
    ...f.books.map(bookRecord),
    ...f.paintings.map(paintingRecord),
    ...f.music.map(musicRecord),
    ...f.discoveries.map(discoveryRecord),
    ...f.people.map((e) => explicitRecord(e, 'people')),
    ...f.elements.flatMap(elementRecords),
    ...f.planets.map(planetRecord),
    ...f.landmarks.map(landmarkRecord),
    ...animalRecords(f),
    ...colorRecords(f),
    ...oppositeRecords(f),
    ...f.shapes.map(shapeRecord),
    ...f.units.map(unitRecord),
    ...calendarRecords(f),
    ...f.misc.map((e) => explicitRecord(e, e.topic === 'planets' ? 'planets' : 'misc')),
  ];
  const ids = new Set();
  for (const r of out) {
    if (ids.has(r.id)) throw new Error(`duplicate fact id ${r.id}`);
    ids.add(r.id);
    check(r);
  }
  return out;
}

