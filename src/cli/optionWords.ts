// The CLI's names for the settings an error's fix points to (data and training errors): its flags.
import type { OptionWords } from '../engine';

export const CLI_OPTION_WORDS: OptionWords = {
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
  batchSize: '--per-device-train-batch-size',
  gradientAccumulation: '--gradient-accumulation-steps',
  learningRate: '--learning-rate',
  maxGradNorm: '--max-grad-norm',
  maxSteps: '--max-steps',
  resume: '--resume',
};
