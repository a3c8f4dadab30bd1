// Fine-tune model's memory check without VS Code: the line of estimates per strategy, no question when
// every strategy fits (or nothing reports memory), a modal warning when one does not: "Train anyway"
// starts the experiment's process with --ignore-memory-estimate, Cancel (or closing it) starts nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ExperimentMemory, MemoryEstimate } from '../../src/engine';
import { experimentArgs } from '../../src/extension/labSettings';
import { TRAIN_ANYWAY, confirmMemory, memoryLine, memoryWarning, type AskModal } from '../../src/extension/memoryWarning';

const MiB = 2 ** 20;
const estimate = (peakMiB: number): MemoryEstimate => ({
  peakBytes: peakMiB * MiB,
  parts: { weights: 0, parameters: 0, optimizerState: 0, gradients: 0, activations: 0, runtime: 0, l2spAnchors: 0, validation: 0, baseline: peakMiB * MiB },
  basis: { parameters: 1, trainedParameters: 1, batchSize: 8, seqLen: 64, accumulation: 1, device: 'cpu' },
});
function memory(availableMiB: number | null, peaks: Record<string, number>): ExperimentMemory {
  return {
    available: availableMiB === null ? null : { bytes: availableMiB * MiB, source: 'FTLAB_AVAILABLE_MEMORY' },
    variants: Object.entries(peaks).map(([name, p]) => ({ name, strategy: name === 'lora' ? 'lora' : 'full', estimate: estimate(p), fits: availableMiB === null || p <= availableMiB, finished: false })),
  };
}

/** A stand-in for vscode.window.showWarningMessage that records each question and gives `answer`. */
function recordingAsk(answer: string | undefined): { ask: AskModal; asked: { message: string; options: { modal: true; detail: string }; items: string[] }[] } {
  const asked: { message: string; options: { modal: true; detail: string }; items: string[] }[] = [];
  return { asked, ask: async (message, options, ...items) => { asked.push({ message, options, items }); return answer; } };
}

test('every strategy fits: the estimates in one line, no question, the process without --ignore-memory-estimate', async () => {
  const m = memory(2048, { full: 900, lora: 400 });
  assert.equal(memoryLine(m), 'estimated peak memory: full 900 MiB, lora 400 MiB (2.00 GiB available: FTLAB_AVAILABLE_MEMORY)');
  const { ask, asked } = recordingAsk(TRAIN_ANYWAY);
  assert.deepEqual(await confirmMemory(m, ask), { start: true, ignoreMemoryEstimate: false });
  assert.equal(asked.length, 0);
  assert.equal(memoryWarning(memory(null, { full: 9e6 })), undefined, 'nothing reports memory: no refusal, no warning');
  assert.match(memoryLine(memory(null, { full: 900 })), /the memory available is not known/);
});

test('a strategy over the memory available: a modal warning naming it; Train anyway passes --ignore-memory-estimate, Cancel starts nothing', async () => {
  const m = memory(1024, { full: 3072, lora: 600 });
  const yes = recordingAsk(TRAIN_ANYWAY);
  const answer = await confirmMemory(m, yes.ask);
  assert.deepEqual(answer, { start: true, ignoreMemoryEstimate: true });
  assert.equal(yes.asked.length, 1);
  const q = yes.asked[0]!;
  assert.equal(q.options.modal, true);
  assert.deepEqual(q.items, [TRAIN_ANYWAY], 'VS Code adds Cancel to a modal itself');
  assert.match(q.message, /^Fine-Tune Lab: full may run out of memory: its estimated peak exceeds the 1\.00 GiB available\.$/);
  assert.match(q.options.detail, /full 3\.00 GiB \(too much\), lora 600 MiB/);
  assert.doesNotMatch(q.message + q.options.detail, /(^|[\s(])--[a-z]/, 'no CLI flag in VS Code');
  const settings = { device: 'auto' as const, cpuThreads: 0 };
  assert.deepEqual(experimentArgs('/e', settings, answer), ['experiment', '--resume', '/e', '--device', 'auto', '--threads', '0', '--ignore-memory-estimate']);

  for (const dismissed of [undefined, 'Cancel']) {
    const no = recordingAsk(dismissed);
    assert.deepEqual(await confirmMemory(m, no.ask), { start: false, ignoreMemoryEstimate: false });
  }
  assert.deepEqual(experimentArgs('/e', settings), ['experiment', '--resume', '/e', '--device', 'auto', '--threads', '0']);
});
