// What Prepare Q&A data shows when the data is good: the statistics of the prepared dataset and a few
// examples as the model sees them (template applied), with the part that counts in the loss marked.
// No vscode import: tested without it.

import { basename } from 'node:path';
import { PreparedDataset, type DatasetManifest, type LengthStats, type loadTokenizer } from '../engine';

type Tokenizer = Awaited<ReturnType<typeof loadTokenizer>>;

/** Marks around the tokens that count in the loss. */
export const TRAINED_OPEN = '⟦';
export const TRAINED_CLOSE = '⟧';

export interface PreviewExample {
  source: string;
  line: number;
  /** Consecutive runs of tokens, decoded, and whether they count in the loss. */
  pieces: { text: string; trained: boolean }[];
}

/** The first `count` training examples of a prepared dataset, decoded run by run. */
export async function previewExamples(dir: string, tokenizer: Tokenizer, count = 3): Promise<PreviewExample[]> {
  const data = PreparedDataset.open(dir);
  try {
    const out: PreviewExample[] = [];
    for (const index of data.indices('train').subarray(0, count)) {
      const { inputIds, labels } = data.example(index);
      const pieces: PreviewExample['pieces'] = [];
      let from = 0;
      for (let k = 1; k <= inputIds.length; k++) {
        if (k < inputIds.length && (labels[k] === -100) === (labels[from] === -100)) continue;
        pieces.push({ text: await tokenizer.decode(Array.from(inputIds.subarray(from, k))), trained: labels[from] !== -100 });
        from = k;
      }
      const { source, line } = data.origin(index);
      out.push({ source, line, pieces });
    }
    return out;
  } finally {
    data.close();
  }
}

/** One example's text with the trained runs between the marks. */
export function markTrained(e: PreviewExample): string {
  return e.pieces.map((p) => (p.trained ? `${TRAINED_OPEN}${p.text}${TRAINED_CLOSE}` : p.text)).join('');
}

function row(name: string, s: LengthStats): string {
  return `  ${name.padEnd(11)}${String(s.examples).padStart(9)}${String(s.tokens).padStart(11)}${`${(s.trainedShare * 100).toFixed(1)}%`.padStart(10)}   ${s.p50} / ${s.p95} / ${s.max}`;
}

/** The preview document: statistics, notes, then the examples. */
export function previewText(m: DatasetManifest, dir: string, examples: readonly PreviewExample[], reused: boolean): string {
  const c = m.counts;
  const lines = [
    `Prepared ${c.examples} examples from ${m.sources.map((s) => `${basename(s.path)}${s.fields ? ` (${s.fields})` : ''}`).join(', ')}`,
    `  ${reused ? 'up to date (same data, tokenizer and settings), in' : 'written to'} ${dir}`,
    `  tokenizer: ${m.tokenizer.source}; template: ${m.template.kind === 'prompt' ? JSON.stringify(m.template.text) : m.template.kind}`,
    '',
    `  ${'split'.padEnd(11)}${'examples'.padStart(9)}${'tokens'.padStart(11)}${'in loss'.padStart(10)}   length p50 / p95 / max`,
    ...(['train', 'validation', 'test'] as const).map((s) => row(s, m.stats[s])),
    row('all', m.stats.all),
    '',
    `  ${c.truncated} truncated to ${m.settings.maxLength} tokens; ${c.droppedTooLong} longer ones left out; ${c.skipped} invalid records skipped`,
    '',
    `The first ${examples.length} training examples as the model sees them; the part between ${TRAINED_OPEN} and ${TRAINED_CLOSE} counts in the loss, the rest is context:`,
  ];
  for (const e of examples) lines.push('', `--- ${basename(e.source)}, line ${e.line}`, markTrained(e));
  return lines.join('\n') + '\n';
}
