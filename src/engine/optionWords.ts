// The options a fix can point to, and how a fix names them in the words of the surface that shows it.
// The engine never names a CLI flag or a VS Code setting in a message a user can meet: it writes
// `{{option}}` and each surface fills in its own name (src/cli/optionWords.ts: flags;
// src/extension/optionWords.ts: pickers and settings).

/** Preparation settings (DataError fixes). */
export const DATA_OPTIONS = [
  'skipInvalid', 'format', 'fields', 'textField', 'template', 'chatTemplate', 'noEos', 'maxLength', 'truncate', 'dropLong',
  'split', 'seed', 'out', 'force', 'seqLength',
] as const;

/** Training settings and actions (TrainingError fixes); the sequence length is DATA_OPTIONS' maxLength. */
export const TRAINING_OPTIONS = ['batchSize', 'gradientAccumulation', 'learningRate', 'maxGradNorm', 'maxSteps', 'resume'] as const;

export const FIX_OPTIONS = [...DATA_OPTIONS, ...TRAINING_OPTIONS] as const;
export type DataOption = (typeof DATA_OPTIONS)[number];
export type FixOption = (typeof FIX_OPTIONS)[number];

/** How a surface names each option; null where it has no such option (the mention is then left out). */
export type OptionWords = Readonly<Record<FixOption, string | null>>;

/** No surface: every mention of an option left out (the engine's own `message` and `fix`). */
export const NO_OPTION_WORDS: OptionWords = Object.fromEntries(FIX_OPTIONS.map((o) => [o, null])) as Record<FixOption, null>;

/**
 * A fix in a surface's words. In the engine's text `{{option}}` stands for an option's name, and
 * `[[...]]` encloses a mention that is kept only where the surface names every option in it:
 * 'raise the maximum length[[ ({{maxLength}})]]' -> 'raise the maximum length (--max-length)' in the
 * CLI, 'raise the maximum length' where there is no such setting.
 */
export function wordFix(text: string, words: OptionWords): string {
  const name = (o: string): string | null => (Object.hasOwn(words, o) ? words[o as FixOption] : null);
  return text
    .replace(/\[\[(.*?)\]\]/gs, (_, inner: string) => {
      const options = [...inner.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]!);
      return options.every((o) => name(o) !== null) ? inner : '';
    })
    .replace(/\{\{(\w+)\}\}/g, (_, o: string) => name(o) ?? o);
}
