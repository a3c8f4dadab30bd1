// Typed reading of a Hugging Face model folder's JSON files: config.json (architecture),
// generation_config.json (generation defaults) and tokenizer_config.json / special_tokens_map.json
// (special tokens, chat template). Only the families the engine can build are accepted:
//   gpt2  -> family 'gpt2'   (GPT-2, DistilGPT2 and other GPT2LMHeadModel checkpoints)
//   llama, mistral, qwen2 -> family 'llama'   (pre-norm RMSNorm + RoPE + SwiGLU + grouped-query attention)
// Missing optional keys take the defaults of the transformers config classes; the sizes that define
// the architecture must be present.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HfConfigCommon } from '../models/causalLM';
import type { Gpt2Activation, HfGpt2Config } from '../models/gpt2';
import type { LlamaConfig, RopeScaling } from '../models/llama';
import { CheckpointError } from './checkpointError';

export type HfFamily = 'gpt2' | 'llama';

/** model_type -> family, and what it covers (for error messages). */
export const SUPPORTED_MODEL_TYPES: Readonly<Record<string, { family: HfFamily; covers: string }>> = {
  gpt2: { family: 'gpt2', covers: 'GPT-2, DistilGPT2 and other GPT2LMHeadModel checkpoints' },
  llama: { family: 'llama', covers: 'Llama 1/2/3, TinyLlama, SmolLM, other LlamaForCausalLM checkpoints' },
  mistral: { family: 'llama', covers: 'Mistral 7B and compatible MistralForCausalLM checkpoints' },
  qwen2: { family: 'llama', covers: 'Qwen2, Qwen2.5' },
};

// The config types belong to the model families (src/engine/models/); re-exported here for the callers
// of the checkpoint API, with ropeInvFreq (which the checks of this file's parsing use).
export type { HfConfigCommon, Gpt2Activation, LlamaConfig, RopeScaling };
export type Gpt2Config = HfGpt2Config;
export { ropeInvFreq } from '../models/llama';

export type HfModelConfig = Gpt2Config | LlamaConfig;

// ------------------------------------------------------------------------------------------ helpers

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Typed getters over one JSON object that report `file: key ...` errors. */
class Fields {
  constructor(readonly obj: Record<string, unknown>, readonly source: string) {}

  fail(msg: string): never {
    throw new CheckpointError(`${this.source}: ${msg}`, this.source);
  }

  private present(key: string): boolean {
    return this.obj[key] !== undefined && this.obj[key] !== null;
  }

  int(key: string, fallback?: number, min = 1): number {
    if (!this.present(key)) {
      if (fallback === undefined) this.fail(`"${key}" is missing (an integer is required)`);
      return fallback;
    }
    const v = this.obj[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) this.fail(`"${key}" must be an integer >= ${min}, found ${JSON.stringify(v)}`);
    return v;
  }

  num(key: string, fallback: number, { min = 0, positive = false } = {}): number {
    if (!this.present(key)) return fallback;
    const v = this.obj[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (positive && v <= 0)) {
      this.fail(`"${key}" must be a ${positive ? 'positive' : `number >= ${min}`}, found ${JSON.stringify(v)}`);
    }
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    if (!this.present(key)) return fallback;
    const v = this.obj[key];
    if (typeof v !== 'boolean') this.fail(`"${key}" must be true or false, found ${JSON.stringify(v)}`);
    return v;
  }

  str(key: string, fallback: string): string;
  str(key: string, fallback: null): string | null;
  str(key: string, fallback: string | null): string | null {
    if (!this.present(key)) return fallback;
    const v = this.obj[key];
    if (typeof v !== 'string') this.fail(`"${key}" must be a string, found ${JSON.stringify(v)}`);
    return v;
  }

  /** An optional token id (null when absent). */
  tokenId(key: string): number | null {
    return this.present(key) ? this.int(key, undefined, 0) : null;
  }

  /** A token id or a list of them (eos_token_id). */
  tokenIds(key: string): number[] {
    if (!this.present(key)) return [];
    const v = this.obj[key];
    const list = Array.isArray(v) ? v : [v];
    if (!list.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0)) {
      this.fail(`"${key}" must be a token id or a list of token ids, found ${JSON.stringify(v)}`);
    }
    return list as number[];
  }
}

async function readJsonFile(path: string): Promise<Record<string, unknown> | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CheckpointError(`cannot read ${path}: ${(error as Error).message}`, path);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CheckpointError(`${path} is not valid JSON: ${(error as Error).message}`, path);
  }
  if (!isRecord(json)) throw new CheckpointError(`${path} must hold a JSON object`, path);
  return json;
}

function supportedList(): string {
  return Object.entries(SUPPORTED_MODEL_TYPES).map(([t, s]) => `${t} (${s.covers})`).join('; ');
}

// ------------------------------------------------------------------------------------------ config.json

/** Parses a config.json object. `source` names the file in error messages. */
export function parseHfConfig(json: unknown, source = 'config.json'): HfModelConfig {
  if (!isRecord(json)) throw new CheckpointError(`${source} must hold a JSON object`, source);
  const f: Fields = new Fields(json, source);
  const modelType = json['model_type'];
  if (typeof modelType !== 'string') {
    const arch = Array.isArray(json['architectures']) ? ` (architectures: ${json['architectures'].join(', ')})` : '';
    f.fail(`no "model_type"${arch}: cannot tell the architecture. Supported model types: ${supportedList()}.`);
  }
  const supported = SUPPORTED_MODEL_TYPES[modelType];
  if (!supported) {
    f.fail(`model_type "${modelType}" is not supported. Supported model types: ${supportedList()}.`);
  }
  const dtype = typeof json['torch_dtype'] === 'string' ? json['torch_dtype'] : typeof json['dtype'] === 'string' ? json['dtype'] : null;
  const common = {
    modelType,
    vocabSize: f.int('vocab_size'),
    bosTokenId: f.tokenId('bos_token_id'),
    eosTokenIds: f.tokenIds('eos_token_id'),
    padTokenId: f.tokenId('pad_token_id'),
    torchDtype: dtype as string | null,
    raw: json,
  };
  return supported.family === 'gpt2' ? parseGpt2(f, common) : parseLlama(f, common);
}

const GPT2_ACTIVATIONS: Readonly<Record<string, Gpt2Activation>> = {
  gelu_new: 'gelu_tanh', gelu_fast: 'gelu_tanh', gelu_pytorch_tanh: 'gelu_tanh', gelu_accurate: 'gelu_tanh',
  gelu: 'gelu', relu: 'relu', silu: 'silu', swish: 'silu', quick_gelu: 'quick_gelu',
};

function parseGpt2(f: Fields, common: Omit<HfConfigCommon, 'tieWordEmbeddings'>): Gpt2Config {
  const nEmbd = f.int('n_embd');
  const nHead = f.int('n_head');
  if (nEmbd % nHead !== 0) f.fail(`n_head (${nHead}) must divide n_embd (${nEmbd})`);
  const activationFunction = f.str('activation_function', 'gelu_new');
  const activation = GPT2_ACTIVATIONS[activationFunction];
  if (!activation) f.fail(`activation_function "${activationFunction}" is not supported (supported: ${Object.keys(GPT2_ACTIVATIONS).join(', ')})`);
  if (!f.bool('scale_attn_weights', true)) f.fail('scale_attn_weights false (attention without 1/sqrt(head_dim)) is not supported');
  if (f.bool('scale_attn_by_inverse_layer_idx', false)) f.fail('scale_attn_by_inverse_layer_idx is not supported');
  if (f.bool('add_cross_attention', false)) f.fail('add_cross_attention (an encoder-decoder GPT-2) is not supported');
  return {
    ...common,
    family: 'gpt2',
    modelType: 'gpt2',
    tieWordEmbeddings: f.bool('tie_word_embeddings', true),
    nEmbd,
    nLayer: f.int('n_layer'),
    nHead,
    nPositions: f.int('n_positions', f.int('n_ctx', 1024)),
    nInner: f.int('n_inner', 4 * nEmbd),
    activation,
    activationFunction,
    layerNormEpsilon: f.num('layer_norm_epsilon', 1e-5, { positive: true }),
    residPdrop: f.num('resid_pdrop', 0.1),
    embdPdrop: f.num('embd_pdrop', 0.1),
    attnPdrop: f.num('attn_pdrop', 0.1),
  };
}

function parseRope(f: Fields, defaultTheta: number, maxPositions: number): { ropeTheta: number; ropeScaling: RopeScaling | null } {
  // transformers >= 5 writes one "rope_parameters" object; earlier versions rope_theta + rope_scaling.
  const params = f.obj['rope_parameters'];
  const scalingRaw = isRecord(params) ? params : f.obj['rope_scaling'];
  let ropeTheta = f.num('rope_theta', defaultTheta, { positive: true });
  if (isRecord(params) && params['rope_theta'] !== undefined) {
    ropeTheta = new Fields(params, `${f.source} rope_parameters`).num('rope_theta', defaultTheta, { positive: true });
  }
  if (scalingRaw === undefined || scalingRaw === null) return { ropeTheta, ropeScaling: null };
  if (!isRecord(scalingRaw)) f.fail(`"rope_scaling" must be an object or null, found ${JSON.stringify(scalingRaw)}`);
  const s = new Fields(scalingRaw, `${f.source} rope_scaling`);
  const kind = s.str('rope_type', s.str('type', 'default'));
  switch (kind) {
    case 'default':
      return { ropeTheta, ropeScaling: null };
    case 'linear':
      return { ropeTheta, ropeScaling: { kind: 'linear', factor: s.num('factor', 1, { positive: true }) } };
    case 'llama3': {
      const lowFreqFactor = s.num('low_freq_factor', 1, { positive: true });
      const highFreqFactor = s.num('high_freq_factor', 4, { positive: true });
      if (highFreqFactor <= lowFreqFactor) s.fail(`high_freq_factor (${highFreqFactor}) must be larger than low_freq_factor (${lowFreqFactor})`);
      return {
        ropeTheta,
        ropeScaling: {
          kind: 'llama3',
          factor: s.num('factor', 8, { positive: true }),
          lowFreqFactor,
          highFreqFactor,
          originalMaxPositionEmbeddings: s.int('original_max_position_embeddings', maxPositions),
        },
      };
    }
    default:
      return s.fail(`rope scaling "${kind}" is not supported (supported: default, linear, llama3)`);
  }
}

function parseLlama(f: Fields, common: Omit<HfConfigCommon, 'tieWordEmbeddings'>): LlamaConfig {
  const type = common.modelType as 'llama' | 'mistral' | 'qwen2';
  const hiddenSize = f.int('hidden_size');
  const numAttentionHeads = f.int('num_attention_heads');
  const numKeyValueHeads = f.int('num_key_value_heads', numAttentionHeads);
  if (numAttentionHeads % numKeyValueHeads !== 0) {
    f.fail(`num_key_value_heads (${numKeyValueHeads}) must divide num_attention_heads (${numAttentionHeads})`);
  }
  if (f.obj['head_dim'] == null && hiddenSize % numAttentionHeads !== 0) {
    f.fail(`num_attention_heads (${numAttentionHeads}) must divide hidden_size (${hiddenSize}) when head_dim is not given`);
  }
  const headDim = f.int('head_dim', hiddenSize / numAttentionHeads);
  if (headDim % 2 !== 0) f.fail(`head_dim (${headDim}) must be even for rotary embeddings`);
  const hiddenAct = f.str('hidden_act', 'silu');
  if (hiddenAct !== 'silu' && hiddenAct !== 'swish') f.fail(`hidden_act "${hiddenAct}" is not supported (the Llama family uses silu)`);
  const maxPositionEmbeddings = f.int('max_position_embeddings', { llama: 2048, mistral: 131072, qwen2: 32768 }[type]);
  const partialRotary = f.num('partial_rotary_factor', 1);
  if (partialRotary !== 1) f.fail(`partial_rotary_factor ${partialRotary} is not supported (rotary on the whole head only)`);

  let qkvBias: boolean;
  let oBias: boolean;
  let slidingWindow: number | null = null;
  if (type === 'qwen2') {
    qkvBias = true; // Qwen2 attention: bias on q/k/v, none on o_proj, regardless of config keys
    oBias = false;
    if (f.bool('use_sliding_window', false)) {
      f.fail('use_sliding_window true (Qwen2 sliding-window attention) is not supported; set it to false to use full attention');
    }
  } else {
    qkvBias = oBias = f.bool('attention_bias', false);
    if (type === 'mistral' && f.obj['sliding_window'] != null) slidingWindow = f.int('sliding_window');
  }
  return {
    ...common,
    family: 'llama',
    modelType: type,
    tieWordEmbeddings: f.bool('tie_word_embeddings', false),
    hiddenSize,
    intermediateSize: f.int('intermediate_size'),
    numHiddenLayers: f.int('num_hidden_layers'),
    numAttentionHeads,
    numKeyValueHeads,
    headDim,
    rmsNormEps: f.num('rms_norm_eps', 1e-6, { positive: true }),
    ...parseRope(f, 10000, maxPositionEmbeddings),
    maxPositionEmbeddings,
    qkvBias,
    oBias,
    mlpBias: f.bool('mlp_bias', false),
    hiddenAct: 'silu',
    attentionDropout: f.num('attention_dropout', 0),
    slidingWindow,
  };
}

/** Reads and parses `dir/config.json`. */
export async function readHfConfig(dir: string): Promise<HfModelConfig> {
  const path = join(dir, 'config.json');
  const json = await readJsonFile(path);
  if (!json) throw new CheckpointError(`${dir} has no config.json: not a Hugging Face model folder`, dir);
  return parseHfConfig(json, path);
}

/** One line for logs: "llama (qwen2): 24 layers, hidden 896, 14 heads (2 kv), vocab 151936, tied". */
export function describeHfConfig(c: HfModelConfig): string {
  const type = c.modelType === c.family ? c.family : `${c.family} (${c.modelType})`;
  const body = c.family === 'gpt2'
    ? `${c.nLayer} layers, n_embd ${c.nEmbd}, ${c.nHead} heads, ${c.nPositions} positions`
    : `${c.numHiddenLayers} layers, hidden ${c.hiddenSize}, ${c.numAttentionHeads} heads (${c.numKeyValueHeads} kv, dim ${c.headDim}), mlp ${c.intermediateSize}`;
  return `${type}: ${body}, vocab ${c.vocabSize}, ${c.tieWordEmbeddings ? 'tied' : 'untied'} lm_head`;
}

// ------------------------------------------------------------------------------------------ generation_config.json

export interface HfGenerationConfig {
  bosTokenId: number | null;
  eosTokenIds: number[];
  padTokenId: number | null;
  maxLength: number | null;
  maxNewTokens: number | null;
  doSample: boolean | null;
  temperature: number | null;
  topP: number | null;
  topK: number | null;
  repetitionPenalty: number | null;
  raw: Record<string, unknown>;
}

export function parseGenerationConfig(json: unknown, source = 'generation_config.json'): HfGenerationConfig {
  if (!isRecord(json)) throw new CheckpointError(`${source} must hold a JSON object`, source);
  const f: Fields = new Fields(json, source);
  const opt = <T>(key: string, get: () => T): T | null => (json[key] == null ? null : get());
  return {
    bosTokenId: f.tokenId('bos_token_id'),
    eosTokenIds: f.tokenIds('eos_token_id'),
    padTokenId: f.tokenId('pad_token_id'),
    maxLength: opt('max_length', () => f.int('max_length')),
    maxNewTokens: opt('max_new_tokens', () => f.int('max_new_tokens')),
    doSample: opt('do_sample', () => f.bool('do_sample', false)),
    temperature: opt('temperature', () => f.num('temperature', 1)),
    topP: opt('top_p', () => f.num('top_p', 1)),
    topK: opt('top_k', () => f.int('top_k', undefined, 0)),
    repetitionPenalty: opt('repetition_penalty', () => f.num('repetition_penalty', 1, { positive: true })),
    raw: json,
  };
}

/** `dir/generation_config.json`, or null when the folder has none. */
export async function readGenerationConfig(dir: string): Promise<HfGenerationConfig | null> {
  const path = join(dir, 'generation_config.json');
  const json = await readJsonFile(path);
  return json ? parseGenerationConfig(json, path) : null;
}

// ------------------------------------------------------------------------------------------ tokenizer_config.json

export interface HfSpecialToken {
  content: string;
  /** Resolved from added_tokens_decoder or tokenizer.json; null when neither lists it. */
  id: number | null;
}

export interface HfTokenizerConfig {
  tokenizerClass: string | null;
  bos: HfSpecialToken | null;
  eos: HfSpecialToken | null;
  pad: HfSpecialToken | null;
  unk: HfSpecialToken | null;
  /** null = not said (the tokenizer.json post-processor decides). */
  addBosToken: boolean | null;
  addEosToken: boolean | null;
  /** The default chat template (Jinja), or null. */
  chatTemplate: string | null;
  /** Named templates (e.g. "tool_use") besides the default. */
  chatTemplates: Record<string, string>;
  /** null when absent or the "very large" placeholder transformers writes. */
  modelMaxLength: number | null;
  raw: Record<string, unknown>;
}

function tokenContent(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (isRecord(v) && typeof v['content'] === 'string') return v['content'];
  return null;
}

/**
 * Parses tokenizer_config.json. `specialTokensMap` (special_tokens_map.json) fills tokens the config
 * lacks; `vocabLookup` resolves token ids the config's added_tokens_decoder does not list.
 */
export function parseTokenizerConfig(
  json: unknown,
  source = 'tokenizer_config.json',
  specialTokensMap: Record<string, unknown> | null = null,
  vocabLookup: (token: string) => number | null = () => null,
): HfTokenizerConfig {
  if (!isRecord(json)) throw new CheckpointError(`${source} must hold a JSON object`, source);
  const f: Fields = new Fields(json, source);
  const ids = new Map<string, number>();
  const decoder = json['added_tokens_decoder'];
  if (isRecord(decoder)) {
    for (const [id, tok] of Object.entries(decoder)) {
      const content = tokenContent(tok);
      if (content !== null && /^\d+$/.test(id)) ids.set(content, Number(id));
    }
  }
  const special = (key: string): HfSpecialToken | null => {
    const content = tokenContent(json[key]) ?? tokenContent(specialTokensMap?.[key]);
    return content === null ? null : { content, id: ids.get(content) ?? vocabLookup(content) };
  };
  const templates: Record<string, string> = {};
  let chatTemplate: string | null = null;
  const ct = json['chat_template'];
  if (typeof ct === 'string') chatTemplate = ct;
  else if (Array.isArray(ct)) {
    for (const t of ct) if (isRecord(t) && typeof t['name'] === 'string' && typeof t['template'] === 'string') templates[t['name']] = t['template'];
    chatTemplate = templates['default'] ?? null;
    delete templates['default'];
  } else if (ct != null) f.fail('"chat_template" must be a string or a list of {name, template}');
  const maxLen = json['model_max_length'];
  return {
    tokenizerClass: f.str('tokenizer_class', null),
    bos: special('bos_token'),
    eos: special('eos_token'),
    pad: special('pad_token'),
    unk: special('unk_token'),
    addBosToken: json['add_bos_token'] == null ? null : f.bool('add_bos_token', false),
    addEosToken: json['add_eos_token'] == null ? null : f.bool('add_eos_token', false),
    chatTemplate,
    chatTemplates: templates,
    modelMaxLength: typeof maxLen === 'number' && Number.isSafeInteger(maxLen) && maxLen > 0 && maxLen < 1e12 ? maxLen : null,
    raw: json,
  };
}

/** Token string -> id from a tokenizer.json (added tokens, then the model vocabulary). */
function tokenizerJsonLookup(tokenizerJson: Record<string, unknown>): (token: string) => number | null {
  const added = new Map<string, number>();
  if (Array.isArray(tokenizerJson['added_tokens'])) {
    for (const t of tokenizerJson['added_tokens']) {
      if (isRecord(t) && typeof t['content'] === 'string' && typeof t['id'] === 'number') added.set(t['content'], t['id']);
    }
  }
  const model = tokenizerJson['model'];
  const vocab = isRecord(model) ? model['vocab'] : undefined;
  return (token) => {
    const a = added.get(token);
    if (a !== undefined) return a;
    if (isRecord(vocab) && typeof vocab[token] === 'number') return vocab[token] as number;
    if (Array.isArray(vocab)) { // Unigram: [[piece, score], ...]
      const i = vocab.findIndex((e) => Array.isArray(e) && e[0] === token);
      return i >= 0 ? i : null;
    }
    return null;
  };
}

/**
 * `dir/tokenizer_config.json` with special_tokens_map.json and a separate chat_template.jinja merged in;
 * null when the folder has no tokenizer_config.json.
 */
export async function readTokenizerConfig(dir: string): Promise<HfTokenizerConfig | null> {
  const path = join(dir, 'tokenizer_config.json');
  const json = await readJsonFile(path);
  if (!json) return null;
  const specialMap = await readJsonFile(join(dir, 'special_tokens_map.json'));
  let parsed = parseTokenizerConfig(json, path, specialMap);
  const unresolved = [parsed.bos, parsed.eos, parsed.pad, parsed.unk].some((t) => t !== null && t.id === null);
  if (unresolved) {
    // Old folders (GPT-2) list no added_tokens_decoder: look the ids up in tokenizer.json.
    const tokenizerJson = await readJsonFile(join(dir, 'tokenizer.json')).catch(() => null);
    if (tokenizerJson) parsed = parseTokenizerConfig(json, path, specialMap, tokenizerJsonLookup(tokenizerJson));
  }
  if (parsed.chatTemplate === null) {
    const jinja = await readFile(join(dir, 'chat_template.jinja'), 'utf8').catch(() => null);
    if (jinja !== null) parsed.chatTemplate = jinja;
  }
  return parsed;
}

// ------------------------------------------------------------------------------------------ special token ids

/** The special-token ids a config.json or generation_config.json holds (the tokenizer's fallback). */
export interface HfSpecialTokenIds {
  bos: number | null;
  /** eos_token_id, a list when the file gives several (Llama 3 instruct). */
  eos: number[];
  pad: number | null;
  /** config.json's model_type (which tokenizer class's defaults apply), null in generation_config.json. */
  modelType: string | null;
}

async function specialIdsOf(path: string): Promise<HfSpecialTokenIds | null> {
  const json = await readJsonFile(path);
  if (!json) return null;
  const f = new Fields(json, path);
  return { bos: f.tokenId('bos_token_id'), eos: f.tokenIds('eos_token_id'), pad: f.tokenId('pad_token_id'), modelType: f.str('model_type', null) };
}

/**
 * The token ids of `dir/config.json` and `dir/generation_config.json` (null for a file the folder lacks),
 * read without checking the architecture: a tokenizer folder of a model the engine cannot build still
 * takes its EOS from there.
 */
export async function readSpecialTokenIds(dir: string): Promise<{ config: HfSpecialTokenIds | null; generation: HfSpecialTokenIds | null }> {
  const [config, generation] = await Promise.all([specialIdsOf(join(dir, 'config.json')), specialIdsOf(join(dir, 'generation_config.json'))]);
  return { config, generation: generation && { ...generation, modelType: null } };
}
