// The extension's settings (package.json, contributes.configuration "Fine-Tune Lab"), read into one
// typed value, and what they become: the experiment child process's command line, the experiment's
// evaluation, the folder runs are kept in. No vscode import (a getter is passed in): tested without it.
//
// A value of the wrong type or out of range (settings.json is hand-edited) falls back to its default
// and is reported in `problems`, in the settings' own words, so the extension can say so once.

import { isAbsolute, join } from 'node:path';
import { SAFE_REPLAY_RATIO, STRATEGIES, type EvalDecoding, type StrategyKind } from '../engine';

export const SETTINGS_SECTION = 'finetuneLab';

export type DeviceSetting = 'auto' | 'cpu' | 'cuda';
export const DEVICE_SETTINGS: readonly DeviceSetting[] = ['auto', 'cpu', 'cuda'];

export interface LabSettings {
  device: DeviceSetting;
  /** 0: ONNX Runtime's default (one per core). */
  cpuThreads: number;
  /** Recompute each block in the backward pass (less memory, more time, the same results). */
  gradientCheckpointing: boolean;
  /** Where experiments and runs are kept: relative to the workspace folder, or absolute. */
  runsFolder: string;
  /** Checked in the strategy picker of Fine-tune model. */
  defaultStrategies: StrategyKind[];
  /** The share of each batch replayed from general text by the presets (0: none). */
  replayShare: number;
  /** The share of the data held out for validation loss when early stopping is chosen. */
  validationShare: number;
  decoding: EvalDecoding;
  /** finetuneLab.experiment.maxSteps: 0 trains each preset's epochs. */
  maxSteps: number;
  generalPrompts?: string;
  generalText?: string;
}

export const SETTING_DEFAULTS: LabSettings = {
  device: 'auto', cpuThreads: 0, gradientCheckpointing: false, runsFolder: '.ftlab', defaultStrategies: ['full'], replayShare: SAFE_REPLAY_RATIO, validationShare: 0.1,
  decoding: { kind: 'greedy' }, maxSteps: 0,
};

/** The design's sampled decoding: top-p 0.9, temperature 0.7, 20 new tokens, 5 seeded samples averaged. */
export const SAMPLED_DECODING: EvalDecoding = { kind: 'sample', samples: 5, seed: 0, topP: 0.9, temperature: 0.7, maxNewTokens: 20 };

export type SettingGetter = (key: string) => unknown;

export interface ReadSettings {
  settings: LabSettings;
  /** "finetuneLab.cpuThreads is -2: it takes a whole number >= 0; using 0" */
  problems: string[];
}

export function readLabSettings(get: SettingGetter): ReadSettings {
  const problems: string[] = [];
  const bad = (key: string, value: unknown, want: string, used: unknown) => {
    problems.push(`${SETTINGS_SECTION}.${key} is ${JSON.stringify(value)}: it takes ${want}; using ${JSON.stringify(used)}`);
    return used;
  };
  const number = (key: string, dflt: number, ok: (n: number) => boolean, want: string): number => {
    const v = get(key);
    if (v === undefined || v === null) return dflt;
    return typeof v === 'number' && ok(v) ? v : (bad(key, v, want, dflt) as number);
  };
  const path = (key: string): string | undefined => {
    const v = get(key);
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') return bad(key, v, 'a file path', '') as undefined;
    return v.trim() || undefined;
  };

  const deviceValue = get('device') ?? SETTING_DEFAULTS.device;
  const device = DEVICE_SETTINGS.includes(deviceValue as DeviceSetting) ? (deviceValue as DeviceSetting) : (bad('device', deviceValue, DEVICE_SETTINGS.join(', '), SETTING_DEFAULTS.device) as DeviceSetting);

  const strategiesValue = get('defaultStrategies') ?? SETTING_DEFAULTS.defaultStrategies;
  const strategies = Array.isArray(strategiesValue) ? strategiesValue.filter((s): s is StrategyKind => STRATEGIES.includes(s as StrategyKind)) : [];
  const defaultStrategies = Array.isArray(strategiesValue) && strategies.length === strategiesValue.length && strategies.length
    ? [...new Set(strategies)]
    : (bad('defaultStrategies', strategiesValue, `a list of ${STRATEGIES.join(', ')}`, SETTING_DEFAULTS.defaultStrategies) as StrategyKind[]);

  const runsValue = get('runsFolder') ?? SETTING_DEFAULTS.runsFolder;
  const runsFolder = typeof runsValue === 'string' && runsValue.trim() ? runsValue.trim() : (bad('runsFolder', runsValue, 'a folder path', SETTING_DEFAULTS.runsFolder) as string);

  const decodingValue = get('evaluation.decoding') ?? 'greedy';
  const decodingKind = decodingValue === 'greedy' || decodingValue === 'sample' ? decodingValue : (bad('evaluation.decoding', decodingValue, 'greedy or sample', 'greedy') as 'greedy');

  const checkpointingValue = get('gradientCheckpointing') ?? SETTING_DEFAULTS.gradientCheckpointing;
  const gradientCheckpointing = typeof checkpointingValue === 'boolean' ? checkpointingValue : (bad('gradientCheckpointing', checkpointingValue, 'true or false', false) as boolean);

  const generalPrompts = path('evaluation.generalPrompts');
  const generalText = path('evaluation.generalText');
  const settings: LabSettings = {
    device,
    cpuThreads: number('cpuThreads', 0, (n) => Number.isInteger(n) && n >= 0 && n <= 1024, 'a whole number from 0 (one per core) to 1024'),
    gradientCheckpointing,
    runsFolder,
    defaultStrategies,
    replayShare: number('replayShare', SETTING_DEFAULTS.replayShare, (n) => n >= 0 && n < 1, 'a share from 0 up to (not including) 1'),
    validationShare: number('validationShare', SETTING_DEFAULTS.validationShare, (n) => n >= 0 && n <= 0.8, 'a share from 0 to 0.8'),
    decoding: decodingKind === 'sample' ? SAMPLED_DECODING : { kind: 'greedy' },
    maxSteps: number('experiment.maxSteps', 0, (n) => Number.isInteger(n) && n >= 0, 'a whole number >= 0'),
    ...(generalPrompts ? { generalPrompts } : {}),
    ...(generalText ? { generalText } : {}),
  };
  return { settings, problems };
}

/** The folder holding `experiments/` and `runs/` for a workspace folder. */
export function runsRoot(workspaceFolder: string, s: Pick<LabSettings, 'runsFolder'>): string {
  return isAbsolute(s.runsFolder) ? s.runsFolder : join(workspaceFolder, s.runsFolder);
}

/**
 * `dist/cli.js experiment --resume <dir>` with where it runs: the device, the CPU threads and gradient
 * checkpointing when on (off leaves experiment.json's: an experiment started with it keeps it). The
 * same for a new experiment (created just before) and a resumed one, so a resume follows the
 * settings of now; each variant's config.json records what it trained with. `ignoreMemoryEstimate`:
 * the user chose "Train anyway" over the memory warning (memoryWarning.ts).
 */
export function experimentArgs(experimentDir: string, s: Pick<LabSettings, 'device' | 'cpuThreads'> & Partial<Pick<LabSettings, 'gradientCheckpointing'>>, o: { ignoreMemoryEstimate?: boolean } = {}): string[] {
  return [
    'experiment', '--resume', experimentDir, '--device', s.device, '--threads', String(s.cpuThreads),
    ...(s.gradientCheckpointing ? ['--gradient-checkpointing'] : []), ...(o.ignoreMemoryEstimate ? ['--ignore-memory-estimate'] : []),
  ];
}
