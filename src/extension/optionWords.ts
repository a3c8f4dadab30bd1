// VS Code's names for the settings an error's fix points to (data and training errors). Only what the
// extension offers is named; a mention of an option it has no picker or setting for is left out of the
// fix (the CLI's flags never reach VS Code: test/extension/dataDiagnostics.test.ts,
// test/extension/trainingMessages.test.ts).
import type { OptionWords } from '../engine';

export const PREPARE_COMMAND_TITLE = 'Fine-Tune Lab: Prepare Q&A data';
/** Where Custom… is: the guard picker of Fine-tune model (customSettings.ts). */
const CUSTOM = 'under Custom… in Fine-tune model';

export const VSCODE_OPTION_WORDS: OptionWords = {
  skipInvalid: null,
  format: null,
  fields: null,
  textField: null,
  template: null,
  chatTemplate: null,
  noEos: null,
  maxLength: `Sequence length ${CUSTOM}`,
  truncate: null,
  dropLong: null,
  split: null,
  seed: null,
  out: null,
  force: `"${PREPARE_COMMAND_TITLE}" on the file`,
  seqLength: null,
  batchSize: `Batch size ${CUSTOM}`,
  gradientAccumulation: null,
  learningRate: `Learning rate ${CUSTOM}`,
  maxGradNorm: null,
  maxSteps: 'the setting finetuneLab.experiment.maxSteps, for a new experiment',
  resume: '"Resume (continue from the checkpoint)" in the Experiments view',
};
