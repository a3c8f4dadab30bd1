// Which lines get a "Test prompt" lens and the prompt each becomes: Q: lines in any text, records of
// Q&A data files (their question, instruction or prompt), in the template the runs trained on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { promptOfLine, promptOfText, shortened } from '../../src/extension/promptLine';

test('Q: lines and data records are prompts; other lines are not', () => {
  assert.deepEqual(promptOfLine('  Q: What is the capital of France?'), { question: 'Q: What is the capital of France?', prompt: 'Q: What is the capital of France?\nA:' });
  assert.deepEqual(promptOfLine('{"question": "Who wrote Hamlet?", "answer": "Shakespeare"}'), { question: 'Q: Who wrote Hamlet?', prompt: 'Q: Who wrote Hamlet?\nA:' });
  assert.deepEqual(promptOfLine('{"instruction": "Name a color", "output": "blue"}')?.prompt, 'Q: Name a color\nA:');
  for (const no of ['Q:', 'A: Paris', 'Some prose.', '{"answer": "x"}', '{"question": 3}', '{not json', '']) assert.equal(promptOfLine(no), undefined, no);
});

test('a selection is asked as written unless it is a Q: line; long answers are cut inline', () => {
  assert.deepEqual(promptOfText('The capital of France is '), { question: 'The capital of France is', prompt: 'The capital of France is' });
  assert.equal(promptOfText('Q: Why?')?.prompt, 'Q: Why?\nA:');
  assert.equal(promptOfText('   '), undefined);
  assert.equal(shortened('x'.repeat(100), 10), 'xxxxxxxxx…');
  assert.equal(shortened('short'), 'short');
});
