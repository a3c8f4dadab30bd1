// What an item of the Experiments view shows for an experiment or a run, from its files (no vscode
// import, so it is tested without VS Code): its label, a one-line description, the tooltip's lines,
// the icon of its state, and the context value that decides which actions its menu offers.
//
// Context values: `finetuneLab.experiment.<state>` and `finetuneLab.run.<state>`, where <state> is a
// RunNodeState or `problem` (a file that does not check); a run adds `.lora` (PEFT export) and
// `.standalone` (an `ftlab train` run: no experiment to resume it with). package.json's `when` clauses
// match them with regular expressions, e.g. /^finetuneLab\.run\.(finished|stopped)/.

import type { AccuracyPair, ExperimentNode, RunNode, RunNodeState } from './workspaceRuns';

export const STATE_ICONS: Record<RunNodeState, string> = {
  running: 'sync~spin', evaluating: 'loading~spin', finished: 'check', stopped: 'debug-pause', failed: 'error', pending: 'circle-outline',
};

export interface ItemParts {
  label: string;
  description: string;
  /** Markdown-free lines; the first is the title. */
  tooltip: string[];
  icon: string;
  contextValue: string;
}

const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(0)}%`);

/** "task 20% → 60%" */
export function accuracyText(name: string, p: AccuracyPair | undefined): string | undefined {
  return p ? `${name} ${pct(p.before)} → ${pct(p.after)}` : undefined;
}

export function contextValue(node: ExperimentNode | RunNode): string {
  if (node.kind === 'experiment') return `finetuneLab.experiment.${node.problem ? 'problem' : node.state ?? 'pending'}`;
  const state = node.problem ? 'problem' : node.state ?? 'pending';
  return `finetuneLab.run.${state}${node.details?.lora ? '.lora' : ''}${node.experimentDir ? '' : '.standalone'}`;
}

/** The item of a run: "lora · built-in · step 2/2 · loss 1.234 · val 1.100 · task 0% → 100%". */
export function runItemParts(node: RunNode, relativeDir: string): ItemParts {
  const d = node.details;
  const figures = [
    d?.bestValidation ? `val ${d.bestValidation.loss.toFixed(3)}` : undefined,
    accuracyText('task', d?.task),
    accuracyText('general', d?.general),
  ].filter(Boolean);
  const stopping = d?.stopRequested && (node.state === 'running' || node.state === 'evaluating') ? 'stopping…' : undefined;
  const description = node.problem ?? [stopping, node.summary, ...figures].filter(Boolean).join(' · ');
  const tooltip = [`Run ${node.label ?? node.name}`, node.label ? `${relativeDir} (renamed from ${node.name})` : relativeDir];
  if (node.problem) tooltip.push('', node.problem);
  else {
    tooltip.push('', `${node.state}${node.stateDetail ? `: ${node.stateDetail}` : ''}`);
    if (d) {
      if (d.strategy) tooltip.push(`strategy: ${d.strategy}`);
      if (d.baseModel) tooltip.push(`base model: ${d.baseModel}`);
      tooltip.push(`step ${d.step} of ${d.totalSteps}${d.loss !== undefined ? `, training loss ${d.loss.toFixed(4)}` : ''}${d.device && d.device !== 'auto' ? ` on ${d.device}` : ''}`);
      tooltip.push(d.bestValidation ? `best validation loss ${d.bestValidation.loss.toFixed(4)} at step ${d.bestValidation.step}` : 'validation loss: not measured (no validation share)');
      const acc = (name: string, p: AccuracyPair | undefined) => (p ? `${name}: ${pct(p.before)} before → ${pct(p.after)} after (${p.total} items)` : `${name}: not measured${node.experimentDir ? ' yet' : ''}`);
      tooltip.push(acc('task accuracy', d.task), acc('general accuracy', d.general));
      if (stopping) tooltip.push('a stop was asked: it stops at the next step boundary');
      if (!d.hasCheckpoint && node.state !== 'running') tooltip.push('no checkpoint: nothing to resume or export');
    }
  }
  return {
    label: node.label ?? node.name,
    description,
    tooltip,
    icon: node.problem ? 'warning' : node.state ? STATE_ICONS[node.state] : 'circle-outline',
    contextValue: contextValue(node),
  };
}

export function experimentItemParts(node: ExperimentNode, relativeDir: string): ItemParts {
  const stopping = node.stopRequested && (node.state === 'running' || node.state === 'evaluating') ? 'stopping…' : undefined;
  const tooltip = [`Experiment ${node.label ?? node.name}`, node.label ? `${relativeDir} (renamed from ${node.name})` : relativeDir];
  if (node.problem) tooltip.push('', node.problem);
  else if (node.state) tooltip.push('', node.state);
  return {
    label: node.label ?? node.name,
    description: node.problem ?? [stopping, node.summary].filter(Boolean).join(' · '),
    tooltip,
    icon: node.problem ? 'warning' : node.state ? STATE_ICONS[node.state] : 'beaker',
    contextValue: contextValue(node),
  };
}
