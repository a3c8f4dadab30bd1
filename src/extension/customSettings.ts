// "Custom…" in Fine-tune model: the user's own learning rate, epochs, batch size, sequence length, LoRA
// rank and alpha, replay share and validation share, each checked as it is typed (settingValidators.ts).

import * as vscode from 'vscode';
import { BUILTIN_MODEL_DIR, STRATEGY_PRESETS, causalLMFromHf, readHfConfig, type StrategyKind, type VariantSettings } from '../engine';
import { customFields, type CustomValues } from './settingValidators';

export interface GuardValues { replayRatio: number; validationSplit?: number; earlyStoppingPatience?: number }

/** What the guard picker answers: a preset's guards, or the user's own values. */
export interface GuardsAnswer extends GuardValues {
  overrides?: Partial<VariantSettings>;
  maxLength?: number;
}

/** Evaluations without a better validation loss before stopping, when a validation share is set. */
const PATIENCE = 3;

/** The guard picker with "Custom…" as its last item. */
export async function pickGuardsOrCustom(
  choices: (vscode.QuickPickItem & { value: GuardValues })[], strategies: readonly StrategyKind[], baseModel: string,
): Promise<GuardsAnswer | undefined> {
  const custom = { label: '$(settings-edit) Custom…', description: 'your own learning rate, epochs, batch size, sequence length, LoRA rank and alpha, replay and validation shares', value: null };
  const picked = await vscode.window.showQuickPick<vscode.QuickPickItem & { value: GuardValues | null }>([...choices, custom], { title: 'Fine-tune model: guards against forgetting, or your own settings', ignoreFocusOut: true });
  if (!picked) return undefined;
  if (picked.value) return picked.value;
  return askCustomValues(strategies, baseModel);
}

async function askCustomValues(strategies: readonly StrategyKind[], baseModel: string): Promise<GuardsAnswer | undefined> {
  const maxPositions = await modelMaxLength(baseModel);
  const first = STRATEGY_PRESETS[strategies[0] ?? 'full'];
  const lora = STRATEGY_PRESETS.lora;
  const defaults: CustomValues = {
    learningRate: first.learningRate, numTrainEpochs: first.numTrainEpochs, perDeviceTrainBatchSize: first.perDeviceTrainBatchSize, maxLength: maxPositions,
    loraRank: lora.loraRank ?? 8, loraAlpha: lora.loraAlpha ?? 16, replayRatio: first.replayRatio, validationSplit: 0,
  };
  const fields = customFields(maxPositions).filter((f) => !f.loraOnly || strategies.includes('lora'));
  const values = { ...defaults };
  for (const [i, f] of fields.entries()) {
    const typed = await vscode.window.showInputBox({
      title: `Fine-tune model: custom settings (${i + 1}/${fields.length}): ${f.title}`, prompt: f.prompt, value: String(defaults[f.key]),
      ignoreFocusOut: true, validateInput: f.check,
    });
    if (typed === undefined) return undefined;
    values[f.key] = Number(typed.trim());
  }
  const overrides: Partial<VariantSettings> = {
    learningRate: values.learningRate, numTrainEpochs: values.numTrainEpochs, perDeviceTrainBatchSize: values.perDeviceTrainBatchSize,
    replayRatio: values.replayRatio,
    ...(strategies.includes('lora') ? { loraRank: values.loraRank, loraAlpha: values.loraAlpha } : {}),
  };
  return {
    replayRatio: values.replayRatio, validationSplit: values.validationSplit, earlyStoppingPatience: values.validationSplit > 0 ? PATIENCE : 0,
    overrides, ...(values.maxLength !== maxPositions ? { maxLength: values.maxLength } : {}),
  };
}

/** The longest example the base model takes (context + 1). */
async function modelMaxLength(baseModel: string): Promise<number> {
  try {
    return causalLMFromHf(await readHfConfig(baseModel === 'builtin' ? BUILTIN_MODEL_DIR : baseModel)).maxPositions + 1;
  } catch {
    return 1025;
  }
}
