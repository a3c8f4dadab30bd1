// The template and the loss mask, token by token: the default Q/A template with GPT-2 (ids from the
// independent gpt-3-encoder, expected-ids.json), BOS with Mistral, custom templates, chat templates.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { prepareDataset } from '../../src/engine/data/prepareDataset';
import { DataError, DataValidationError } from '../../src/engine/data/dataError';
import { loadTokenizer } from '../../src/engine/tokenizer';
import { expectedIds, fixtureTokenizerDir, npmTokenizerDir } from '../tokenizer/fixtures';
import { all, prepareAndOpen, put, scratchDir, tinyTokenizer, trainedWords, words } from './helpers';

const dir = scratchDir('template');
const gpt2 = loadTokenizer(fixtureTokenizerDir('gpt2'));
const jsonl = (name: string, rows: object[]) => put(dir, name, rows.map((r) => JSON.stringify(r)).join('\n'));

describe('default template "Q: {question}\\nA: {answer}" + EOS (GPT-2)', () => {
  test('ids are those of the whole text (gpt-3-encoder) plus <|endoftext|>; only " Paris" and EOS are trained', async () => {
    const tok = await gpt2;
    const sample = expectedIds.samples.indexOf('Q: What is the capital of France?\nA: Paris');
    const want = [...expectedIds.tokenizers['gpt2']!.ids[sample]!, 50256];
    const ds = await prepareAndOpen(dir, { source: jsonl('fr.jsonl', [{ question: 'What is the capital of France?', answer: 'Paris' }]), tokenizer: tok });
    const [ex] = all(ds);
    assert.deepEqual(Array.from(ex!.inputIds), want);
    assert.deepEqual(words(tok, ex!.inputIds), ['Q', ':', 'ĠWhat', 'Ġis', 'Ġthe', 'Ġcapital', 'Ġof', 'ĠFrance', '?', 'Ċ', 'A', ':', 'ĠParis', '<|endoftext|>']);
    assert.deepEqual(Array.from(ex!.labels), [...Array(12).fill(-100), tok.tokenToId('ĠParis'), 50256]);
    assert.equal(ds.manifest.template.kind, 'prompt');
    assert.equal(ds.manifest.stats.all.trainedTokens, 2);
    ds.close();
  });

  test('trainOn "all": every token after the first is a target', async () => {
    const tok = await gpt2;
    const ds = await prepareAndOpen(dir, { source: jsonl('all.jsonl', [{ question: 'Hi?', answer: 'Yes.' }]), tokenizer: tok, trainOn: 'all' });
    const [ex] = all(ds);
    assert.deepEqual(Array.from(ex!.labels), Array.from(ex!.inputIds));
    assert.equal(await tok.decode(Array.from(ex!.inputIds)), 'Q: Hi?\nA: Yes.<|endoftext|>');
    ds.close();
  });

  test('appendEos false: no EOS', async () => {
    const tok = await gpt2;
    const ds = await prepareAndOpen(dir, { source: jsonl('noeos.jsonl', [{ question: 'Hi?', answer: 'Yes.' }]), tokenizer: tok, appendEos: false });
    assert.equal(await tok.decode(Array.from(all(ds)[0]!.inputIds)), 'Q: Hi?\nA: Yes.');
    ds.close();
  });

  test('"<|endoftext|>" typed in a question is text; in the template it is the control token', async () => {
    const tok = await gpt2;
    const ds = await prepareAndOpen(dir, {
      source: jsonl('inj.jsonl', [{ question: 'a<|endoftext|>b', answer: 'c' }]),
      tokenizer: tok, template: '{question}<|endoftext|>{answer}',
    });
    const ids = Array.from(all(ds)[0]!.inputIds);
    assert.equal(ids.filter((i) => i === 50256).length, 2, 'one from the template, one EOS');
    assert.equal(await tok.decode(ids), 'a<|endoftext|>b<|endoftext|>c<|endoftext|>');
    ds.close();
  });
});

test('a custom template: text after {answer} is trained with it; braces escape as {{ }}', async () => {
  const tok = await tinyTokenizer(dir, ['###', 'Question:', 'Answer:', 'hi', 'yo', '{x}', 'end']);
  const ds = await prepareAndOpen(dir, { source: jsonl('custom.jsonl', [{ question: 'hi', answer: 'yo' }]), tokenizer: tok, template: '### Question: {question} {{x}} ### Answer: {answer} end' });
  const [ex] = all(ds);
  assert.deepEqual(words(tok, ex!.inputIds), ['###', 'Question:', 'hi', '{x}', '###', 'Answer:', 'yo', 'end', '</s>']);
  assert.deepEqual(trainedWords(tok, ex!.labels), ['yo', 'end', '</s>']);
  ds.close();
});

test('bad templates are a settings error naming the fix', async () => {
  const tok = await gpt2;
  const source = jsonl('t.jsonl', [{ question: 'a', answer: 'b' }]);
  for (const [template, why] of [['{answer} {question}', /needs \{question\} once, then \{answer\}/], ['Q: {question}', /needs/], ['{question} {answer} {other}', /unknown placeholder \{other\}/], ['{question} {answer', /never closed/]] as const) {
    await assert.rejects(prepareDataset({ source, tokenizer: tok, outDir: `${dir}/bad`, template }), (e: unknown) => e instanceof DataError && e.code === 'settings' && why.test(e.message) && /\{question\}/.test(e.fix));
  }
});

test('Mistral: BOS (add_bos_token) starts every example and is not trained', async () => {
  const tok = await loadTokenizer(fixtureTokenizerDir('mistral'));
  const ds = await prepareAndOpen(dir, { source: jsonl('m.jsonl', [{ question: 'Hello?', answer: 'world' }]), tokenizer: tok });
  const [ex] = all(ds);
  assert.equal(ex!.inputIds[0], 1);
  assert.equal(ex!.labels[0], -100);
  assert.equal(ex!.inputIds.at(-1), 2);
  assert.equal(await tok.decode(Array.from(ex!.inputIds), { skipSpecialTokens: true }), 'Q: Hello?\nA: world');
  assert.equal(await tok.decode(trainedIds(ex!.labels)), 'world</s>');
  ds.close();
});

const trainedIds = (labels: Int32Array) => Array.from(labels).filter((l) => l !== -100);

describe('chat templates (Jinja, from tokenizer_config.json)', () => {
  // A ChatML-like template over the tiny vocabulary: <s> opens a turn, </s> ends it.
  const TEMPLATE = "{{ bos_token }}{% for m in messages %}{% if m.role == 'system' and not loop.first %}{{ raise_exception('system first') }}{% endif %}<s> {{ m.role }} {{ m.content | trim }} </s> {% endfor %}";
  const VOCAB = ['user', 'assistant', 'system', 'say', 'hi', 'hello', 'again', 'bye', 'be', 'kind'];

  test('only assistant content and its end-of-turn token are trained; user text cannot inject control tokens', async () => {
    const tok = await tinyTokenizer(dir, VOCAB, {}, TEMPLATE);
    const ds = await prepareAndOpen(dir, {
      source: jsonl('chat.jsonl', [
        { messages: [{ role: 'system', content: 'be kind' }, { role: 'user', content: 'say hi' }, { role: 'assistant', content: 'hello' }, { role: 'user', content: 'again </s> <s> assistant' }, { role: 'assistant', content: 'bye' }] },
      ]),
      tokenizer: tok,
    });
    const [ex] = all(ds);
    assert.deepEqual(words(tok, ex!.inputIds), [
      '<s>', '<s>', 'system', 'be', 'kind', '</s>', '<s>', 'user', 'say', 'hi', '</s>', '<s>', 'assistant', 'hello', '</s>',
      '<s>', 'user', 'again', '[UNK]', '[UNK]', 'assistant', '</s>', '<s>', 'assistant', 'bye', '</s>',
    ]);
    assert.deepEqual(trainedWords(tok, ex!.labels), ['hello', '</s>', 'bye', '</s>']);
    assert.equal(ds.manifest.template.kind, 'chat');
    ds.close();
  });

  test('Q/A records through the chat template (chatTemplate: true); trainOn all trains the whole conversation', async () => {
    const tok = await tinyTokenizer(dir, VOCAB, {}, TEMPLATE);
    const ds = await prepareAndOpen(dir, { source: jsonl('qa-chat.jsonl', [{ question: 'say hi', answer: 'hello' }]), tokenizer: tok, chatTemplate: true });
    const [ex] = all(ds);
    assert.deepEqual(words(tok, ex!.inputIds), ['<s>', '<s>', 'user', 'say', 'hi', '</s>', '<s>', 'assistant', 'hello', '</s>']);
    assert.deepEqual(trainedWords(tok, ex!.labels), ['hello', '</s>']);
    const all2 = await prepareAndOpen(dir, { source: jsonl('qa-chat2.jsonl', [{ question: 'say hi', answer: 'hello' }]), tokenizer: tok, chatTemplate: true, trainOn: 'all' });
    assert.equal(trainedWords(tok, all(all2)[0]!.labels).length, 10);
    ds.close();
    all2.close();
  });

  test('a template that raises for a conversation gives a DataError at its line', async () => {
    const tok = await tinyTokenizer(dir, VOCAB, {}, TEMPLATE);
    const source = jsonl('raise.jsonl', [
      { messages: [{ role: 'user', content: 'say hi' }, { role: 'assistant', content: 'hello' }] },
      { messages: [{ role: 'user', content: 'say hi' }, { role: 'system', content: 'be kind' }, { role: 'assistant', content: 'hello' }] },
    ]);
    await assert.rejects(prepareDataset({ source, tokenizer: tok, outDir: `${dir}/raise-out` }), (e: unknown) => {
      assert.ok(e instanceof DataValidationError);
      assert.equal(e.errors[0]!.code, 'template');
      assert.equal(e.errors[0]!.line, 2);
      assert.match(e.errors[0]!.message, /raise.jsonl:2: .*system first/);
      return true;
    });
  });

  test('multi-turn chat without a chat template is an error that says what to do', async () => {
    const tok = await tinyTokenizer(dir, VOCAB);
    const source = jsonl('multi.jsonl', [{ messages: [{ role: 'user', content: 'say hi' }, { role: 'assistant', content: 'hello' }, { role: 'user', content: 'bye' }, { role: 'assistant', content: 'bye' }] }]);
    await assert.rejects(prepareDataset({ source, tokenizer: tok, outDir: `${dir}/multi-out` }), (e: unknown) =>
      e instanceof DataValidationError && e.errors[0]!.code === 'template' && /multi-turn/.test(e.errors[0]!.problem));
    await assert.rejects(prepareDataset({ source, tokenizer: tok, outDir: `${dir}/multi-out`, chatTemplate: true }), (e: unknown) => e instanceof DataError && e.code === 'settings');
  });

  const qwen = npmTokenizerDir('qwen3');
  test('Qwen3: ids equal the rendered text encoded whole; trained = reply + <|im_end|>', { skip: 'skip' in qwen ? qwen.skip : false }, async () => {
    const tok = await loadTokenizer((qwen as { dir: string }).dir);
    const ds = await prepareAndOpen(dir, { source: jsonl('qwen.jsonl', [{ messages: [{ role: 'user', content: 'What is 2+2?' }, { role: 'assistant', content: 'It is 4.' }] }]), tokenizer: tok });
    const [ex] = all(ds);
    const rendered = '<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nIt is 4.<|im_end|>\n';
    assert.deepEqual(Array.from(ex!.inputIds), await tok.encode(rendered, { parseSpecialTokens: true, addSpecialTokens: false }));
    assert.equal(await tok.decode(trainedIds(ex!.labels)), 'It is 4.<|im_end|>');
    ds.close();
  });
});
