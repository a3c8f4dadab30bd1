// Short simple stories written by the project's generator: everyday English (people, animals, places,
// feelings, dialogue, cause and effect) for a small model to learn fluent sentences from. Some
// stories mention a fact of facts.json (a lesson at school, a trip, a bedtime book), always in the
// words of a statement, so the stories never contradict the facts corpus.
import { capitalize, numberWords, withArticle } from './englishWords.mjs';
import { SeededRandom } from './seededRandom.mjs';

const GIRLS = ['Mia', 'Lily', 'Emma', 'Sara', 'Anna', 'Zoe', 'Nora', 'Ella', 'Ruby', 'Grace', 'Maya', 'Lucy', 'Hannah', 'Chloe', 'Amara', 'Priya', 'Sofia', 'Leila', 'Ava', 'Rosa'];
const BOYS = ['Tom', 'Ben', 'Sam', 'Leo', 'Max', 'Jack', 'Noah', 'Omar', 'Finn', 'Theo', 'Hugo', 'Ravi', 'Luca', 'Owen', 'Kai', 'Eli', 'Jonah', 'Felix', 'Mateo', 'Arjun'];
const ANIMAL_HEROES = [
  ['a little fox', 'Rusty', 'he'], ['a small rabbit', 'Pip', 'she'], ['a brown bear', 'Bruno', 'he'], ['a curious kitten', 'Misty', 'she'],
  ['a young duck', 'Dot', 'she'], ['a friendly dog', 'Buddy', 'he'], ['a tiny mouse', 'Nibbles', 'he'], ['a clever owl', 'Hazel', 'she'],
  ['a shy turtle', 'Shelly', 'she'], ['a playful puppy', 'Rex', 'he'], ['a little squirrel', 'Acorn', 'he'], ['a gentle lamb', 'Daisy', 'she'],
];
const PRONOUNS = {
  he: { subj: 'he', obj: 'him', poss: 'his' },
  she: { subj: 'she', obj: 'her', poss: 'her' },
};
const PLACES = ['the park', 'the garden', 'the beach', 'the forest', 'the farm', 'the playground', 'the meadow', 'the riverbank', 'the library', 'the market', 'the hill behind the house', 'the lake'];
const TIMES = ['One sunny morning', 'On a rainy afternoon', 'Early one winter day', 'One warm summer evening', 'On a windy autumn day', 'Last Saturday', 'One quiet Sunday', 'After school one day', 'One spring morning', 'On a cold, bright morning'];
const THINGS = [['ball', 'red'], ['kite', 'yellow'], ['hat', 'blue'], ['scarf', 'green'], ['book', 'old'], ['toy boat', 'wooden'], ['drawing', 'new'], ['umbrella', 'purple'], ['teddy bear', 'soft'], ['whistle', 'shiny']];
const HIDING = ['under a bench', 'behind a big tree', 'next to the gate', 'in a pile of leaves', 'under the slide', 'beside the pond', 'on a low branch', 'under the table', 'in the tall grass', 'behind the flower pots'];
const FEELINGS_GOOD = ['happy', 'proud', 'glad', 'delighted', 'cheerful', 'excited'];
const FEELINGS_BAD = ['sad', 'worried', 'upset', 'nervous', 'lonely', 'cross'];
const FOODS = ['apple pie', 'vegetable soup', 'pancakes', 'a big salad', 'warm bread', 'rice and beans', 'fish and potatoes', 'pasta with tomato sauce', 'a bowl of porridge', 'fresh fruit'];
const GAMES = ['hide and seek', 'tag', 'a board game', 'catch', 'a card game', 'hopscotch', 'a guessing game'];
const BAKES = [['a cake', 'flour, eggs, butter and sugar'], ['cookies', 'flour, butter, sugar and a little chocolate'], ['bread', 'flour, water, yeast and salt'], ['muffins', 'flour, milk, eggs and blueberries']];
const PLANTS = [['sunflower', 'sunflowers'], ['tomato', 'tomatoes'], ['carrot', 'carrots'], ['bean', 'beans'], ['tulip', 'tulips'], ['strawberry', 'strawberries'], ['pea', 'peas'], ['pumpkin', 'pumpkins']];
const LESSONS = {
  friends: ['It is good to ask for help when you need it.', 'A good friend is a great treasure.', 'Two people can find what one person cannot.'],
  patience: ['Being patient is worth it.', 'Good things take time.', 'Trying again is the best way to learn.'],
  sharing: ['Sharing makes everyone happier.', 'Taking turns is fair to everyone.', 'Small acts of kindness can make a big difference.'],
};
// Books a parent might read to a child at bedtime.
const BEDTIME_BOOKS = new Set(["Alice's Adventures in Wonderland", 'Treasure Island', 'The Jungle Book', 'Peter Pan', 'The Wonderful Wizard of Oz',
  "Charlotte's Web", 'Matilda', 'Charlie and the Chocolate Factory', 'The Tale of Peter Rabbit', 'Winnie-the-Pooh', 'Anne of Green Gables',
  'The Secret Garden', 'Black Beauty', 'The Wind in the Willows', 'The Hobbit', 'The Lion, the Witch and the Wardrobe',
  "Harry Potter and the Philosopher's Stone", 'Little Women', 'The Little Prince', 'Robinson Crusoe', "Gulliver's Travels",
  'Around the World in Eighty Days', 'The Adventures of Tom Sawyer', 'White Fang', 'The Call of the Wild']);

function hero(rng) {
  if (rng.chance(0.3)) {
    const [kind, name, p] = rng.pick(ANIMAL_HEROES);
    return { name, intro: `${kind} named ${name}`, ...PRONOUNS[p] };
  }
  const girl = rng.chance(0.5);
  const name = rng.pick(girl ? GIRLS : BOYS);
  const age = rng.int(5, 11);
  return { name, intro: `${withArticle(numberWords(age))}-year-old ${girl ? 'girl' : 'boy'} named ${name}`, ...PRONOUNS[girl ? 'she' : 'he'] };
}

function friendOf(rng, h) {
  for (;;) {
    const girl = rng.chance(0.5);
    const name = rng.pick(girl ? GIRLS : BOYS);
    if (name !== h.name) return { name, ...PRONOUNS[girl ? 'she' : 'he'] };
  }
}

const cap = capitalize;

function lostThing(rng) {
  const h = hero(rng);
  const f = friendOf(rng, h);
  const [thing, adj] = rng.pick(THINGS);
  const place = rng.pick(PLACES);
  const hide = rng.pick(HIDING);
  return [
    `${rng.pick(TIMES)}, ${h.intro} went to ${place} with ${h.poss} ${adj} ${thing}.`,
    `${cap(h.subj)} played for a long time, and when it was time to go home, the ${thing} was gone.`,
    `${h.name} felt ${rng.pick(FEELINGS_BAD)}. "Has anyone seen my ${thing}?" ${h.subj} asked. "I have looked everywhere."`,
    `Just then, ${h.poss} friend ${f.name} came by. "I will help you look," said ${f.name}.`,
    `Together they searched ${rng.pick(['slowly and carefully', 'high and low', 'all around', 'one corner at a time'])}.`,
    `At last ${f.name} found the ${thing} ${hide}.`,
    `${h.name} was so ${rng.pick(FEELINGS_GOOD)} that ${h.subj} gave ${f.name} a big hug. "Thank you," ${h.subj} said. "${rng.pick(LESSONS.friends)}"`,
  ].join(' ');
}

function baking(rng) {
  const h = hero(rng);
  const [what, ingredients] = rng.pick(BAKES);
  const helper = rng.pick(['grandmother', 'grandfather', 'mother', 'father', 'aunt', 'uncle', 'big sister', 'big brother']);
  const oops = rng.pick([
    `${cap(h.subj)} spilled some flour on the floor, and they both laughed.`,
    `The kitchen got very messy, but nobody minded.`,
    `${cap(h.subj)} forgot the sugar at first, but ${h.poss} ${helper} reminded ${h.obj}.`,
    `${cap(h.subj)} had to wait a long time while everything baked in the oven.`,
  ]);
  return [
    `${rng.pick(TIMES)}, ${h.intro} wanted to bake ${what} with ${h.poss} ${helper}.`,
    `"What do we need?" asked ${h.name}. "We need ${ingredients}," said ${h.poss} ${helper}.`,
    `${h.name} measured everything carefully and stirred the mixture with a big wooden spoon.`,
    oops,
    `When ${what} came out of the oven, the whole house smelled wonderful.`,
    `${h.name} shared ${what} with ${rng.pick(['the neighbors', 'the whole family', 'friends from school', 'everyone at home'])}, and everyone said it was delicious.`,
  ].join(' ');
}

function garden(rng) {
  const h = hero(rng);
  const [seed, plant] = rng.pick(PLANTS);
  const days = rng.pick(['a week', 'two weeks', 'a few days', 'ten days']);
  return [
    `In the spring, ${h.intro} planted some ${seed} seeds in a small patch of soil.`,
    `Every day ${h.subj} watered them and checked to see if anything had grown.`,
    `For ${days}, nothing happened, and ${h.name} began to feel ${rng.pick(FEELINGS_BAD)}. "Why is nothing growing?" ${h.subj} asked.`,
    `"Plants need time, water and sunlight," said ${h.poss} ${rng.pick(['mother', 'father', 'teacher', 'neighbor'])}.`,
    `Then one morning ${h.name} saw tiny green shoots pushing up through the ground.`,
    `By the end of the summer, the ${plant} were big and healthy, and ${h.name} was very ${rng.pick(FEELINGS_GOOD)}.`,
    rng.pick(LESSONS.patience),
  ].join(' ');
}

function rescue(rng) {
  const h = hero(rng);
  const [animal, trouble, fix] = rng.pick([
    ['bird', 'had a hurt wing', 'kept it warm in a box until it could fly again'],
    ['kitten', 'was stuck high up in a tree', 'fetched a ladder with a grown-up and carried it down'],
    ['puppy', 'was lost and shivering in the rain', 'dried it with a towel and found its owner'],
    ['duckling', 'had lost its mother', 'walked it back to the pond, where its mother was waiting'],
    ['hedgehog', 'was stuck in a hole', 'gently lifted it out with a pair of gloves'],
  ]);
  return [
    `${rng.pick(TIMES)}, ${h.intro} was walking through ${rng.pick(PLACES)} when ${h.subj} heard a small sound.`,
    `It was a little ${animal} that ${trouble}.`,
    `${h.name} knew ${h.subj} had to help. ${cap(h.subj)} ${fix}.`,
    `"Where did you come from, little ${animal}?" ${h.subj} whispered. The ${animal} ${rng.pick(['looked up at', 'stayed close to', 'seemed to smile at'])} ${h.name} as if to say thank you.`,
    `That night, ${h.name} told ${h.poss} family the whole story, and they were proud of ${h.obj}.`,
  ].join(' ');
}

function rainyDay(rng) {
  const h = hero(rng);
  const f = friendOf(rng, h);
  return [
    `${h.name} and ${f.name} had planned a picnic in ${rng.pick(PLACES)}.`,
    `But when they woke up, dark clouds filled the sky and rain was falling hard.`,
    `"Now we cannot have our picnic," said ${h.name} sadly. "What shall we do instead?" asked ${f.name}.`,
    `So they spread a blanket on the living room floor and had their picnic inside. They ate ${rng.pick(FOODS)} and played ${rng.pick(GAMES)}.`,
    `In the afternoon the rain stopped, and the sun came out.`,
    `A rainbow appeared in the sky. ${f.name} pointed at it and named the colors: red, orange, yellow, green, blue, indigo and violet.`,
    `It turned out to be the best picnic they ever had.`,
  ].join(' ');
}

function sharing(rng) {
  const h = hero(rng);
  const f = friendOf(rng, h);
  const [thing] = rng.pick(THINGS);
  return [
    `${h.name} and ${f.name} both wanted to play with the same ${thing}.`,
    `"It is mine!" said ${h.name}. "No, I had it first!" said ${f.name}.`,
    `They pulled and pulled until both of them were ${rng.pick(FEELINGS_BAD)}.`,
    `Then ${h.name} had an idea. "Let us take turns," ${h.subj} said. "You can have it first."`,
    `${f.name} smiled, and soon they were playing together and laughing.`,
    `From that day on, they always took turns. ${rng.pick(LESSONS.sharing)}`,
  ].join(' ');
}

function counting(rng) {
  const h = hero(rng);
  const fruit = rng.pick(['apples', 'oranges', 'plums', 'pears', 'strawberries', 'cherries']);
  const a = rng.int(2, 9);
  const b = rng.int(1, 9);
  const c = a + b;
  const g = rng.int(1, Math.min(a + b - 1, 9));
  return [
    `${h.name} went to the market with a basket. ${cap(h.subj)} bought ${numberWords(a)} ${fruit}.`,
    `On the way home, a kind neighbor gave ${h.obj} ${numberWords(b)} more ${fruit}.`,
    `${h.name} counted them: ${numberWords(a)} plus ${numberWords(b)} is ${numberWords(c)}. Now ${h.subj} had ${numberWords(c)} ${fruit}.`,
    `At home, ${h.subj} gave ${numberWords(g)} of them to ${h.poss} ${rng.pick(['little brother', 'little sister', 'grandmother', 'friend'])}.`,
    `${cap(numberWords(c))} minus ${numberWords(g)} is ${numberWords(c - g)}, so ${h.name} had ${numberWords(c - g)} ${fruit} left.`,
    `"Sharing is fun," ${h.subj} said, and ${h.subj} ate one with a smile.`,
  ].join(' ');
}

function school(rng, records) {
  const h = hero(rng);
  const r = rng.pick(records);
  const fact = rng.pick(r.statements);
  const subject = { capitals: 'geography', continents: 'geography', languages: 'geography', currencies: 'geography', largestCities: 'geography', books: 'reading', paintings: 'art', music: 'music', discoveries: 'science', elements: 'science', elementNumbers: 'science', planets: 'science', animals: 'nature', colors: 'art', landmarks: 'geography', people: 'history', misc: 'science' }[r.group] ?? 'general knowledge';
  return [
    `${rng.pick(['On Monday', 'On Tuesday', 'On Wednesday', 'On Thursday', 'On Friday'])}, ${h.name} had ${withArticle(subject)} lesson at school.`,
    `The teacher told the class something new. ${fact}`,
    `${h.name} wrote it down in ${h.poss} notebook so that ${h.subj} would not forget.`,
    `At dinner, ${h.subj} told ${h.poss} family what ${h.subj} had learned. ${fact}`,
    (([who, p]) => `${cap(h.poss)} ${who} smiled. "You learn something new every day," ${p} said.`)(rng.pick([['father', 'he'], ['mother', 'she'], ['grandmother', 'she'], ['grandfather', 'he']])),
  ].join(' ');
}

function trip(rng, landmarks) {
  const h = hero(rng);
  const l = rng.pick(landmarks);
  return [
    `Last ${rng.pick(['summer', 'spring', 'autumn', 'winter'])}, ${h.name} went on a trip with ${h.poss} family.`,
    `They traveled to ${l.place} to see ${l.name}.`,
    `${cap(h.subj)} had seen pictures of ${l.name} in books, but the real thing was even better.`,
    `They took many photographs and bought a postcard to send to ${h.poss} ${rng.pick(['grandparents', 'best friend', 'teacher', 'cousins'])}.`,
    `In the evening they ate ${rng.pick(FOODS)} at a small restaurant.`,
    `${h.name} said it was the most ${rng.pick(['exciting', 'wonderful', 'interesting', 'amazing'])} trip of ${h.poss} life. "When can we come back?" ${h.subj} asked.`,
  ].join(' ');
}

function bedtime(rng, books) {
  const h = hero(rng);
  const b = rng.pick(books);
  const fact = rng.pick(b.statements);
  return [
    `Every night before bed, ${h.name}'s ${rng.pick(['mother', 'father', 'grandmother', 'grandfather'])} read to ${h.obj} from a book.`,
    `This week they were reading ${b.id.replace(/^book\//, '')}. "Who wrote this book?" asked ${h.name}. ${fact}`,
    `${h.name} loved the story and always asked for one more chapter.`,
    `But when the clock said eight, it was time to sleep. The light went out, and ${h.name} dreamed about the story all night.`,
  ].join(' ');
}

function brave(rng) {
  const h = hero(rng);
  const [fear, reassure] = rng.pick([
    ['the dark', 'The dark is just the same room with the light turned off.'],
    ['thunder', 'Thunder is only the sound that lightning makes. It cannot hurt you inside the house.'],
    ['the first day at a new school', 'Everyone feels nervous on the first day. Soon you will have new friends.'],
    ['swimming in deep water', 'If you practice a little every day, you will become a strong swimmer.'],
    ['big dogs', 'Most dogs are friendly. Let the dog sniff your hand first, and stay calm.'],
  ]);
  return [
    `${cap(h.intro)} was afraid of ${fear}.`,
    `One evening, ${h.subj} told ${h.poss} ${rng.pick(['mother', 'father', 'grandmother', 'older sister'])} about it. "How can I stop being scared?" ${h.subj} asked.`,
    `"${reassure}"`,
    `${h.name} thought about these words for a long time.`,
    `The next time, ${h.subj} took a deep breath and was brave. It was not so bad after all.`,
    `${cap(h.subj)} felt ${rng.pick(FEELINGS_GOOD)} and a little bit taller.`,
  ].join(' ');
}

/** @returns {string[]} stories, one document each (records: factRecords; facts: facts.json) */
export function storyDocuments(records, count, seed, facts) {
  const rng = SeededRandom.forPart(seed, 'stories');
  const factful = records.filter((r) => r.group !== 'opposites');
  const landmarks = facts.landmarks;
  const books = records.filter((r) => r.group === 'books' && BEDTIME_BOOKS.has(r.id.replace(/^book\//, '')));
  if (books.length !== BEDTIME_BOOKS.size) throw new Error('a bedtime book is missing from facts.json');
  const kinds = [
    () => lostThing(rng), () => baking(rng), () => garden(rng), () => rescue(rng), () => rainyDay(rng),
    () => sharing(rng), () => counting(rng), () => school(rng, factful), () => trip(rng, landmarks),
    () => bedtime(rng, books), () => brave(rng),
  ];
  const out = new Set();
  for (let tries = 0; out.size < count && tries < count * 10; tries++) out.add(rng.pick(kinds)());
  return [...out];
}
