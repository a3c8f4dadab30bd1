// Fine-tune model's memory check, before the experiment's process starts: each strategy's estimated
// peak (the engine's estimate, the one a variant's run refuses on) in one line, and a modal warning
// when one exceeds the memory available: "Train anyway" runs it (the child gets
// --ignore-memory-estimate), Cancel starts nothing. No vscode import: tested without it.

import { formatBytes, type ExperimentMemory } from '../engine';

export const TRAIN_ANYWAY = 'Train anyway';

/** "estimated peak memory: full 1.20 GiB, lora 640 MiB (7.50 GiB available: MemAvailable (/proc/meminfo))" */
export function memoryLine(m: ExperimentMemory): string {
  const each = m.variants.map((v) => `${v.name} ${formatBytes(v.estimate.peakBytes)}${v.fits ? '' : ' (too much)'}`).join(', ');
  return `estimated peak memory: ${each} (${m.available ? `${formatBytes(m.available.bytes)} available: ${m.available.source}` : 'the memory available is not known'})`;
}

/** The modal's message and detail when a variant does not fit; undefined when all do (or nothing reports memory). */
export function memoryWarning(m: ExperimentMemory): { message: string; detail: string } | undefined {
  const over = m.variants.filter((v) => !v.fits);
  if (!over.length || !m.available) return undefined;
  const names = over.map((v) => v.name).join(', ');
  return {
    message: `Fine-Tune Lab: ${names} may run out of memory: ${over.length === 1 ? 'its' : 'their'} estimated peak exceeds the ${formatBytes(m.available.bytes)} available.`,
    detail: `${memoryLine(m)}.\n\nA run that needs more is killed by the system. Lower the batch size or the sequence length (Custom… in Fine-tune model), ` +
      `or choose LoRA; or train anyway (the estimate can be high). FTLAB_AVAILABLE_MEMORY in the environment sets what is available.`,
  };
}

/** The part of vscode.window.showWarningMessage this asks with. */
export type AskModal = (message: string, options: { modal: true; detail: string }, ...items: string[]) => PromiseLike<string | undefined>;

/** Whether to start the experiment, and whether its variants skip the estimate (the user chose Train anyway). */
export async function confirmMemory(m: ExperimentMemory, ask: AskModal): Promise<{ start: boolean; ignoreMemoryEstimate: boolean }> {
  const warning = memoryWarning(m);
  if (!warning) return { start: true, ignoreMemoryEstimate: false };
  const answer = await ask(warning.message, { modal: true, detail: warning.detail }, TRAIN_ANYWAY);
  return answer === TRAIN_ANYWAY ? { start: true, ignoreMemoryEstimate: true } : { start: false, ignoreMemoryEstimate: false };
}
