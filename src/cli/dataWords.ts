// The CLI's names for the preparation settings a data error's fix points to: its flags.
import type { DataOptionWords } from '../engine';

export const CLI_DATA_WORDS: DataOptionWords = {
  skipInvalid: '--skip-invalid',
  format: '--format jsonl|json|csv|tsv',
  fields: '--question-field NAME --answer-field NAME',
  textField: '--text-field',
  template: '--template',
  chatTemplate: '--chat-template',
  noEos: '--no-eos',
  maxLength: '--max-length',
  truncate: '--truncate',
  dropLong: '--drop-long',
  split: '--split 0.8,0.1,0.1',
  seed: '--seed',
  out: '--out',
  force: 'ftlab prepare ... --force',
  seqLength: '--seq-length',
};
