// VS Code's names for the preparation settings a data error's fix points to. Only what the extension
// offers is named; a mention of an option it has no picker or setting for is left out of the fix
// (the CLI's flags never reach VS Code: test/extension/dataMessages.test.ts).
import type { DataOptionWords } from '../engine';

export const PREPARE_COMMAND_TITLE = 'Fine-Tune Lab: Prepare Q&A data';

export const VSCODE_DATA_WORDS: DataOptionWords = {
  skipInvalid: null,
  format: null,
  fields: null,
  textField: null,
  template: null,
  chatTemplate: null,
  noEos: null,
  maxLength: 'Sequence length under Custom… in Fine-tune model',
  truncate: null,
  dropLong: null,
  split: null,
  seed: null,
  out: null,
  force: `"${PREPARE_COMMAND_TITLE}" on the file`,
  seqLength: null,
};
