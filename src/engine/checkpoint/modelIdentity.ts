// Which base model a run or an experiment started from, by name, version and hash, not only by folder:
// the built-in model's folder moves with every install and its weights change between releases, and a
// Hub snapshot folder is named by its commit. A run records this so that its base can be found again,
// or a changed base is recognised instead of producing a confusing shape error.

import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BUILTIN_MODEL_DIR, PACKAGE_ROOT } from '../builtin';

export interface ModelIdentity {
  name: string;
  /** Fine-Tune Lab's version for the built-in model; null for a user's folder. */
  version: string | null;
  /** sha256 of the weight files (model.safetensors or its shards, in name order). */
  sha256: string | null;
}

export const BUILTIN_MODEL_NAME = 'finetune-lab/builtin-gpt2';

export async function weightsHash(modelDir: string): Promise<string | null> {
  const files = readdirSync(modelDir).filter((f) => /^model(-\d+-of-\d+)?\.safetensors$/.test(f)).sort();
  if (!files.length) return null;
  const h = createHash('sha256');
  for (const f of files) {
    await new Promise<void>((ok, fail) => createReadStream(join(modelDir, f)).on('data', (b) => h.update(b)).on('end', ok).on('error', fail));
  }
  return h.digest('hex');
}

export function packageVersion(): string | null {
  try {
    return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version?: string }).version ?? null;
  } catch {
    return null;
  }
}

/** The built-in model's name, a Hub cache snapshot's repo id, or the folder's name. */
export function modelName(baseModel: string): string {
  if (baseModel === 'builtin' || resolve(baseModel) === BUILTIN_MODEL_DIR) return BUILTIN_MODEL_NAME;
  const dir = resolve(baseModel);
  const m = /models--([^/\\]+)--([^/\\]+)[/\\]snapshots[/\\]/.exec(dir);
  if (m) return `${m[1]}/${m[2]}`;
  return dir.split(/[\\/]/).filter(Boolean).pop() ?? dir;
}

export async function modelIdentity(baseModel: string): Promise<ModelIdentity> {
  const builtin = baseModel === 'builtin' || resolve(baseModel) === BUILTIN_MODEL_DIR;
  return { name: modelName(baseModel), version: builtin ? packageVersion() : null, sha256: await weightsHash(builtin ? BUILTIN_MODEL_DIR : resolve(baseModel)) };
}
