// The values "Custom…" in Fine-tune model asks for, each checked as it is typed (an InputBox's
// validateInput): what it is, its preset default, and the rule. No vscode import: tested without it.

export interface CustomValues {
  learningRate: number;
  numTrainEpochs: number;
  perDeviceTrainBatchSize: number;
  /** Longest example in tokens (longer ones are cut); at most the model's context. */
  maxLength: number;
  loraRank: number;
  loraAlpha: number;
  replayRatio: number;
  validationSplit: number;
}

export interface CustomField {
  key: keyof CustomValues;
  title: string;
  prompt: string;
  /** Only asked when a LoRA variant is chosen. */
  loraOnly?: boolean;
  /** An error message for `text`, or undefined when it is a valid value. */
  check(text: string): string | undefined;
}

interface NumberRule { integer?: boolean; min: number; minInclusive?: boolean; max: number; maxInclusive?: boolean }

/** The error for a typed number, or undefined: a number, whole where asked, within its bounds. */
export function checkNumber(text: string, what: string, r: NumberRule): string | undefined {
  const t = text.trim();
  if (t === '') return `type ${what}`;
  const n = Number(t);
  if (!Number.isFinite(n)) return `${JSON.stringify(t)} is not a number`;
  if (r.integer && !Number.isInteger(n)) return `${what} is a whole number`;
  const lowOk = r.minInclusive === false ? n > r.min : n >= r.min;
  const highOk = r.maxInclusive === false ? n < r.max : n <= r.max;
  if (!lowOk || !highOk) return `${what} is ${r.minInclusive === false ? 'above' : 'at least'} ${r.min} and ${r.maxInclusive === false ? 'below' : 'at most'} ${r.max}`;
  return undefined;
}

/** The share of the data held out for the task figure (an experiment's default test split). */
export const TEST_SHARE = 0.1;

/** `maxPositions`: the longest example the base model takes (its context + 1). */
export function customFields(maxPositions: number): CustomField[] {
  return [
    { key: 'learningRate', title: 'learning rate', prompt: 'Learning rate, e.g. 0.0001 (full) or 0.002 (LoRA)', check: (t) => checkNumber(t, 'the learning rate', { min: 0, minInclusive: false, max: 1 }) },
    { key: 'numTrainEpochs', title: 'epochs', prompt: 'Epochs: passes over the training data', check: (t) => checkNumber(t, 'the number of epochs', { integer: true, min: 1, max: 1000 }) },
    { key: 'perDeviceTrainBatchSize', title: 'batch size', prompt: 'Batch size: examples per step', check: (t) => checkNumber(t, 'the batch size', { integer: true, min: 1, max: 4096 }) },
    { key: 'maxLength', title: 'sequence length', prompt: `Sequence length in tokens: longer examples are cut (the model takes at most ${maxPositions})`, check: (t) => checkNumber(t, 'the sequence length', { integer: true, min: 2, max: maxPositions }) },
    { key: 'loraRank', title: 'LoRA rank', prompt: 'LoRA rank: the adapters\' inner size', loraOnly: true, check: (t) => checkNumber(t, 'the LoRA rank', { integer: true, min: 1, max: 1024 }) },
    { key: 'loraAlpha', title: 'LoRA alpha', prompt: 'LoRA alpha: the adapters\' scale (often twice the rank)', loraOnly: true, check: (t) => checkNumber(t, 'LoRA alpha', { min: 0, minInclusive: false, max: 100000 }) },
    { key: 'replayRatio', title: 'replay share', prompt: 'Replay share: the part of each batch taken from general text against forgetting (0: none)', check: (t) => checkNumber(t, 'the replay share', { min: 0, max: 1, maxInclusive: false }) },
    {
      key: 'validationSplit', title: 'validation share', prompt: `Validation share: the part of the data held out for validation loss and early stopping (0: none; ${TEST_SHARE} is held out for the task figure)`,
      check: (t) => checkNumber(t, 'the validation share', { min: 0, max: 0.8 }),
    },
  ];
}
