// A Hugging Face model folder <-> named float32 tensors, checked against the parameter list the config
// implies. Names are the HF state_dict keys of GPT2LMHeadModel / LlamaForCausalLM ("canonical" names);
// checkpoints saved from the bare GPT2Model / LlamaModel (no "transformer." / "model." prefix) load too.
import { cp, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { hfModelParams } from '../models/hfCausalLM';
import type { ParamShape } from '../models/nn';
import { CheckpointError } from './checkpointError';
import {
  describeHfConfig, parseHfConfig, readGenerationConfig, readHfConfig, readTokenizerConfig,
  type HfFamily, type HfGenerationConfig, type HfModelConfig, type HfTokenizerConfig,
} from './hfConfig';
import {
  SAFETENSORS_DTYPE_BYTES, SAFETENSORS_INDEX_FILE, SAFETENSORS_SINGLE_FILE, SafetensorsCheckpoint,
  writeSafetensors, type FloatTensor,
} from './safetensors';

export type ParamSpec = ParamShape;

/**
 * Every parameter of the model, in the order of the HF module's named_parameters(), with its shape:
 * the family's own list (src/engine/models/gpt2.ts, llama.ts). A tied lm_head is not listed.
 */
export function expectedParams(config: HfModelConfig): ParamSpec[] {
  return hfModelParams(config);
}

/** The prefix of the base model's parameters inside the *ForCausalLM / *LMHeadModel. */
const BASE_PREFIX: Record<HfFamily, string> = { gpt2: 'transformer.', llama: 'model.' };
/** The token embedding a tied lm_head shares. */
const EMBEDDING: Record<HfFamily, string> = { gpt2: 'transformer.wte.weight', llama: 'model.embed_tokens.weight' };
/** Non-parameter buffers some checkpoints carry: skipped without a warning. */
const IGNORED_BUFFERS: Record<HfFamily, RegExp> = {
  gpt2: /^(transformer\.)?h\.\d+\.attn\.(bias|masked_bias)$/,
  llama: /\.rotary_emb\.inv_freq$/,
};

export interface HfModel {
  dir: string;
  config: HfModelConfig;
  family: HfFamily;
  /** Canonical name -> tensor, in expectedParams() order. */
  tensors: Map<string, FloatTensor>;
  /** The weight files read (index first when sharded). */
  files: string[];
  /** Things the user may want to know (ignored extra tensors, a differing tied lm_head). */
  warnings: string[];
  generation: HfGenerationConfig | null;
  tokenizer: HfTokenizerConfig | null;
}

export interface LoadHfModelOptions {
  /** Called with each warning as it is found (they are also returned). */
  onWarning?: (message: string) => void;
  /** Bytes of tensor data read so far, of the total to read. */
  onProgress?: (doneBytes: number, totalBytes: number) => void;
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function listSome(names: readonly string[], max = 8): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

/** Explains a folder without safetensors weights: pickle, TF/Flax, a PEFT adapter, or nothing. */
async function explainMissingWeights(dir: string, files: readonly string[]): Promise<never> {
  const has = (f: string) => files.includes(f);
  const pickle = files.filter((f) => /^pytorch_model.*\.bin$/.test(f) || f === 'pytorch_model.bin.index.json' || /\.(pt|pth|ckpt)$/.test(f));
  if (has('adapter_config.json')) {
    let base = '';
    try {
      const cfg = JSON.parse(await readFile(join(dir, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
      if (typeof cfg['base_model_name_or_path'] === 'string') base = ` (its base model: ${cfg['base_model_name_or_path']})`;
    } catch { /* the base name is a hint only */ }
    throw new CheckpointError(`${dir} is a PEFT/LoRA adapter, not a full model: load its base model${base} instead.`, dir);
  }
  if (pickle.length > 0) {
    const bin = pickle.includes('pytorch_model.bin') ? 'pytorch_model.bin' : pickle[0]!;
    throw new CheckpointError(
      `${dir} has PyTorch pickle weights only (${listSome(pickle, 4)}). Fine-Tune Lab does not load pickle files ` +
        `(loading one can run arbitrary code). Convert them to safetensors once, with Python, either with transformers:\n` +
        `  python -c "from transformers import AutoModelForCausalLM as M; M.from_pretrained('${dir}').save_pretrained('${dir}', safe_serialization=True)"\n` +
        `or with torch and safetensors only (single-file checkpoints):\n` +
        `  python -c "import torch; from safetensors.torch import save_file; sd = torch.load('${join(dir, bin)}', map_location='cpu', weights_only=True); ` +
        `save_file({k: v.clone().contiguous() for k, v in sd.items()}, '${join(dir, SAFETENSORS_SINGLE_FILE)}', metadata={'format': 'pt'})"`,
      dir,
    );
  }
  const other = files.filter((f) => f === 'tf_model.h5' || f === 'flax_model.msgpack' || f.endsWith('.gguf') || f.endsWith('.onnx'));
  if (other.length > 0) {
    throw new CheckpointError(`${dir} has weights only as ${listSome(other, 4)}; Fine-Tune Lab reads safetensors (${SAFETENSORS_SINGLE_FILE} or sharded with ${SAFETENSORS_INDEX_FILE}).`, dir);
  }
  const loose = files.filter((f) => f.endsWith('.safetensors'));
  if (loose.length > 0) {
    throw new CheckpointError(`${dir} has ${listSome(loose, 4)} but neither ${SAFETENSORS_SINGLE_FILE} nor ${SAFETENSORS_INDEX_FILE} (a shard index is needed to load several files)`, dir);
  }
  throw new CheckpointError(`${dir} has no model weights (${SAFETENSORS_SINGLE_FILE} or ${SAFETENSORS_INDEX_FILE}).`, dir);
}

/** Loads config, tokenizer/generation settings and every parameter of a GPT-2 or Llama-family folder. */
export async function loadHfModel(dir: string, options: LoadHfModelOptions = {}): Promise<HfModel> {
  let files: string[];
  try {
    if (!(await stat(dir)).isDirectory()) throw new CheckpointError(`${dir} is not a folder: give the model's folder (with config.json and model.safetensors)`, dir);
    files = await readdir(dir);
  } catch (error) {
    if (error instanceof CheckpointError) throw error;
    throw new CheckpointError(`cannot read the model folder ${dir}: ${(error as Error).message}`, dir);
  }
  const config = await readHfConfig(dir);
  if (!files.includes(SAFETENSORS_SINGLE_FILE) && !files.includes(SAFETENSORS_INDEX_FILE)) await explainMissingWeights(dir, files);

  const warnings: string[] = [];
  const warn = (message: string) => {
    warnings.push(message);
    options.onWarning?.(message);
  };
  const family = config.family;
  const prefix = BASE_PREFIX[family];
  const checkpoint = await SafetensorsCheckpoint.open(dir);
  try {
    const where = (name: string) => basename(checkpoint.fileOf(name) ?? SAFETENSORS_SINGLE_FILE);
    // Canonical name -> name in the checkpoint (with or without the base-model prefix).
    const stored = new Map<string, string>();
    const missing: string[] = [];
    const misShaped: string[] = [];
    const expected = expectedParams(config);
    for (const { name, shape } of expected) {
      const candidates = name.startsWith(prefix) ? [name, name.slice(prefix.length)] : [name];
      const found = candidates.find((c) => checkpoint.entry(c) !== undefined);
      if (found === undefined) {
        missing.push(name);
        continue;
      }
      stored.set(name, found);
      const actual = checkpoint.entry(found)!.shape;
      if (actual.length !== shape.length || actual.some((d, i) => d !== shape[i])) {
        misShaped.push(`tensor "${found}" in ${where(found)} has shape ${shapeText(actual)} but config.json expects ${shapeText(shape)}`);
      }
    }
    const what = `a ${describeHfConfig(config)}`;
    if (missing.length > 0) {
      throw new CheckpointError(
        `${dir}: the checkpoint is missing ${missing.length} tensor${missing.length > 1 ? 's' : ''} of ${what}: ${listSome(missing)}` +
          (missing.length === expected.length ? '. None of the expected names is present: does config.json belong to these weights?' : ''),
        dir,
      );
    }
    if (misShaped.length > 0) {
      throw new CheckpointError(`${dir}: ${misShaped.length} tensor${misShaped.length > 1 ? 's do' : ' does'} not match ${what}:\n  ${listSome(misShaped, 6)}`, dir);
    }

    const used = new Set(stored.values());
    const storedLmHead = config.tieWordEmbeddings && checkpoint.entry('lm_head.weight') ? 'lm_head.weight' : undefined;
    const extra = [...checkpoint.names()].filter((n) => !used.has(n) && n !== storedLmHead && !IGNORED_BUFFERS[family].test(n));
    if (extra.length > 0) warn(`${dir}: ignored ${extra.length} tensor${extra.length > 1 ? 's' : ''} that ${what} does not use: ${listSome(extra)}`);

    const totalBytes = expected.reduce((s, e) => {
      const entry = checkpoint.entry(stored.get(e.name)!)!;
      return s + (entry.end - entry.begin);
    }, 0);
    let doneBytes = 0;
    const tensors = new Map<string, FloatTensor>();
    for (const { name } of expected) {
      const from = stored.get(name)!;
      tensors.set(name, await checkpoint.readFloat32(from));
      const entry = checkpoint.entry(from)!;
      doneBytes += entry.end - entry.begin;
      options.onProgress?.(doneBytes, totalBytes);
    }
    if (storedLmHead) {
      const head = await checkpoint.readFloat32(storedLmHead);
      const emb = tensors.get(EMBEDDING[family])!;
      if (head.data.length !== emb.data.length || head.data.some((v, i) => v !== emb.data[i])) {
        warn(`${dir}: lm_head.weight differs from ${EMBEDDING[family]}, but config.json ties them (tie_word_embeddings): using the embedding, as transformers does`);
      }
    }
    const [generation, tokenizer] = await Promise.all([readGenerationConfig(dir), readTokenizerConfig(dir)]);
    return { dir, config, family, tensors, files: [...checkpoint.files], warnings, generation, tokenizer };
  } finally {
    await checkpoint.close();
  }
}

// ------------------------------------------------------------------------------------------ export

/** Tokenizer and generation files copied from the base model folder on export, when present. */
export const HF_SIDE_FILES = [
  'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json',
  'vocab.json', 'merges.txt', 'tokenizer.model', 'added_tokens.json', 'chat_template.jinja',
] as const;

export interface SaveHfModelOptions {
  /** The model's config: the parsed one (its raw JSON is written back) or a config.json object. */
  config: HfModelConfig | Record<string, unknown>;
  /** Canonical name -> tensor; exactly expectedParams(config) (a tied lm_head.weight may be given and is dropped). */
  tensors: ReadonlyMap<string, FloatTensor>;
  /** Base model folder to copy tokenizer/generation files from (HF_SIDE_FILES present there). */
  copyFrom?: string;
  /** Stored dtype of the weights (default F32); config.json's torch_dtype follows it. */
  dtype?: 'F32' | 'F16' | 'BF16';
  /** Split into model-0000i-of-0000n.safetensors + index when the data is larger than this. */
  maxShardBytes?: number;
  /** Extra text files to write into the folder (name -> content), e.g. a README.md. */
  extraFiles?: Record<string, string>;
}

const TORCH_DTYPE = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' } as const;

function isParsedConfig(c: SaveHfModelOptions['config']): c is HfModelConfig {
  return (c as HfModelConfig).family !== undefined && typeof (c as HfModelConfig).raw === 'object';
}

/**
 * Writes a folder transformers can load: config.json, model.safetensors (or shards + index) and the
 * base model's tokenizer files. Everything is written into a temporary sibling folder first and then
 * renamed into place, so `dir` is never half-written. An existing `dir` is replaced only when it is
 * empty or a model folder (has config.json).
 */
export async function saveHfModel(dir: string, options: SaveHfModelOptions): Promise<{ files: string[] }> {
  const raw: Record<string, unknown> = structuredClone(isParsedConfig(options.config) ? options.config.raw : options.config);
  const config = parseHfConfig(raw, 'the config given to saveHfModel');
  const dtype = options.dtype ?? 'F32';
  raw['torch_dtype'] = TORCH_DTYPE[dtype];
  if ('dtype' in raw) raw['dtype'] = TORCH_DTYPE[dtype];

  const expected = expectedParams(config);
  const names = new Set(expected.map((e) => e.name));
  const problems: string[] = [];
  for (const { name, shape } of expected) {
    const t = options.tensors.get(name);
    if (!t) problems.push(`missing tensor "${name}" ${shapeText(shape)}`);
    else if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]) || t.data.length !== shape.reduce((a, b) => a * b, 1)) {
      problems.push(`tensor "${name}" has shape ${shapeText(t.shape)} (${t.data.length} values) but the config expects ${shapeText(shape)}`);
    }
  }
  for (const name of options.tensors.keys()) {
    if (!names.has(name) && !(name === 'lm_head.weight' && config.tieWordEmbeddings)) problems.push(`tensor "${name}" is not a parameter of the model`);
  }
  if (problems.length > 0) throw new CheckpointError(`cannot export to ${dir}: ${listSome(problems, 6)}`, dir);

  const existing = await readdir(dir).catch(() => null);
  if (existing && existing.length > 0 && !existing.includes('config.json')) {
    throw new CheckpointError(`cannot export to ${dir}: the folder exists and is not a model folder (no config.json); choose another folder or empty it`, dir);
  }

  await mkdir(dirname(dir), { recursive: true });
  const tmp = join(dirname(dir), `.${basename(dir)}.${randomBytes(4).toString('hex')}.tmp`);
  await mkdir(tmp);
  try {
    const written: string[] = [];
    const elemBytes = SAFETENSORS_DTYPE_BYTES[dtype];
    const shards: ParamSpec[][] = [[]];
    let shardBytes = 0;
    for (const p of expected) {
      const bytes = p.shape.reduce((a, b) => a * b, 1) * elemBytes;
      if (options.maxShardBytes !== undefined && shardBytes > 0 && shardBytes + bytes > options.maxShardBytes) {
        shards.push([]);
        shardBytes = 0;
      }
      shards[shards.length - 1]!.push(p);
      shardBytes += bytes;
    }
    const metadata = { format: 'pt' }; // transformers refuses safetensors files without format "pt"
    const pick = (list: ParamSpec[]) => new Map(list.map((p) => [p.name, options.tensors.get(p.name)!]));
    if (shards.length === 1) {
      await writeSafetensors(join(tmp, SAFETENSORS_SINGLE_FILE), pick(shards[0]!), { metadata, floatDtype: dtype });
      written.push(SAFETENSORS_SINGLE_FILE);
    } else {
      const weightMap: Record<string, string> = {};
      let totalSize = 0;
      for (let i = 0; i < shards.length; i++) {
        const file = `model-${String(i + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`;
        await writeSafetensors(join(tmp, file), pick(shards[i]!), { metadata, floatDtype: dtype });
        for (const p of shards[i]!) {
          weightMap[p.name] = file;
          totalSize += p.shape.reduce((a, b) => a * b, 1) * elemBytes;
        }
        written.push(file);
      }
      await writeFile(join(tmp, SAFETENSORS_INDEX_FILE), JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2) + '\n');
      written.push(SAFETENSORS_INDEX_FILE);
    }
    await writeFile(join(tmp, 'config.json'), JSON.stringify(raw, null, 2) + '\n');
    written.push('config.json');
    if (options.copyFrom) {
      for (const f of HF_SIDE_FILES) {
        const from = join(options.copyFrom, f);
        if (await stat(from).then((s) => s.isFile(), () => false)) {
          await cp(from, join(tmp, f), { dereference: true }); // HF cache entries are symlinks to blobs
          written.push(f);
        }
      }
    }
    for (const [name, text] of Object.entries(options.extraFiles ?? {})) {
      if (name !== basename(name) || name.startsWith('.')) throw new CheckpointError(`cannot export: extra file name "${name}" must be a plain file name`, dir);
      await writeFile(join(tmp, name), text);
      written.push(name);
    }
    // Swap into place: old folder aside, new one in, old one removed.
    if (existing) {
      const old = join(dirname(dir), `.${basename(dir)}.${randomBytes(4).toString('hex')}.old`);
      await rename(dir, old);
      try {
        await rename(tmp, dir);
      } catch (error) {
        await rename(old, dir); // put the previous export back
        throw error;
      }
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(tmp, dir);
    }
    return { files: written };
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
}
