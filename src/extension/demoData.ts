// The walkthrough's first step: the demo Q&A set copied into the workspace (fine-tune-lab-demo/qa.jsonl)
// with a page of `Q:` prompts to test the fine-tuned model on (prompts.md, questions it trained on and
// questions it did not). Files that are already there are kept.

import { copyFileSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_QA_FILE, DEMO_QA_TEST_FILE, readDemoQa, writeFileAtomic } from '../engine';

export const DEMO_FOLDER = 'fine-tune-lab-demo';

/** The prompts page: a few trained and a few held-out questions as `Q:` lines. */
export function demoPromptsPage(): string {
  const trained = readDemoQa(DEMO_QA_FILE).slice(0, 4);
  const heldOut = readDemoQa(DEMO_QA_TEST_FILE).slice(0, 3);
  return [
    '# Test the fine-tuned model',
    '',
    'Click "Test prompt" above a `Q:` line (or put the cursor on it and run "Fine-Tune Lab: Test prompt"):',
    'the base model and the fine-tuned run answer side by side.',
    '',
    '## Questions it trained on',
    '',
    ...trained.flatMap((q) => [`Q: ${q.question}`, `(expected: ${q.answer})`, '']),
    '## Questions it did not see',
    '',
    ...heldOut.flatMap((q) => [`Q: ${q.question}`, `(expected: ${q.answer})`, '']),
  ].join('\n');
}

/** Copies the demo into `<root>/fine-tune-lab-demo/`; returns the data file and the prompts page. */
export function copyDemoData(root: string): { dataFile: string; promptsFile: string } {
  const dir = join(root, DEMO_FOLDER);
  mkdirSync(dir, { recursive: true });
  const dataFile = join(dir, 'qa.jsonl');
  const promptsFile = join(dir, 'prompts.md');
  if (!existsSync(dataFile)) {
    const tmp = `${dataFile}.tmp-${process.pid}`;
    copyFileSync(DEMO_QA_FILE, tmp);
    renameSync(tmp, dataFile);
  }
  if (!existsSync(promptsFile)) writeFileAtomic(promptsFile, demoPromptsPage());
  return { dataFile, promptsFile };
}
