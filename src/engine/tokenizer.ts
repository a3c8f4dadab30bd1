// Tokenizers: Hugging Face's own Rust library (`tokenizers`, loaded from a model's tokenizer.json) does
// the splitting and merging; this file adds what that library leaves to its callers:
//   - tokenizer_config.json rules: add_bos_token / add_eos_token and the bos/eos/pad tokens;
//   - the special tokens resolved once, as transformers does: tokenizer_config.json (with
//     special_tokens_map.json), then the ids in config.json, then generation_config.json, then the
//     defaults of the tokenizer class (GPT-2's tokenizer_config.json on the Hub holds only model_max_length);
//   - folders with vocab.json + merges.txt and no tokenizer.json (older GPT-2-family repos): the
//     tokenizer.json transformers' GPT2TokenizerFast would build from them, made in memory;
//   - a guard on user text: a special-token string typed by a user ("<|endoftext|>", "<s>") stays plain
//     text and never becomes a control token (transformers' split_special_tokens);
//   - text made of trusted template parts and untrusted user parts, encoded in one pass (chat templates);
//   - which tokens each piece of such a text went into (for loss masks), and errors that name the
//     file and the fix.
//
// The guard: the Node binding cannot switch off special-token matching (Rust's
// `encode_special_tokens` is not exposed), so a second Rust tokenizer is built from the same JSON with
// every special token's text replaced by a placeholder made of Unicode noncharacters (U+FDD0..U+FDEF,
// which never occur in interchanged text). User text cannot contain the placeholder, so it is tokenized
// as ordinary text, exactly as Rust does with `encode_special_tokens = true`; trusted template text has
// its special tokens swapped for the placeholders and gets the control tokens, in the same single
// encode, so merges, lstrip/rstrip and Metaspace prefixes behave as in a plain `encode`.
// (A model whose own vocabulary has the special string as an ordinary word, as a WordLevel vocabulary
// can, still maps that word to it: the guard covers the added-token matching, as Rust's does.)
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Tokenizer as RustTokenizer, type Encoding as RustEncoding } from 'tokenizers';
import { CheckpointError } from './checkpoint/checkpointError';
import { readSpecialTokenIds, readTokenizerConfig, type HfSpecialTokenIds, type HfTokenizerConfig } from './checkpoint/hfConfig';

export interface EncodeOptions {
  /** Add what the tokenizer adds around a text (BOS for Llama, nothing for GPT-2). Default true, as in transformers. */
  addSpecialTokens?: boolean;
  /** Let special-token strings in the text become control tokens. Default false: text is user text. */
  parseSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Leave control tokens (BOS, EOS, chat markers) out of the text. Default false. */
  skipSpecialTokens?: boolean;
}

/** A part of a text: template text is trusted (its special-token strings are control tokens), user text is not. */
export interface TextPiece {
  text: string;
  trusted?: boolean;
}

export interface PieceEncoding {
  ids: number[];
  /**
   * Per piece, the tokens that overlap its text, as [first, end) token indices: 2 numbers per piece
   * ([0, 0] for a piece without tokens). A token that spans two pieces is in both ranges.
   */
  pieceTokens: Uint32Array;
}

export interface Tokenizer {
  /** Where it was loaded from (the tokenizer.json path, or vocab.json's for a vocab.json + merges.txt folder). */
  readonly source: string;
  /** Number of token ids (model vocabulary + added tokens): every id is below it. */
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly padId: number | undefined;
  readonly bosToken: string | undefined;
  readonly eosToken: string | undefined;
  readonly padToken: string | undefined;
  /**
   * Every id that ends generation: the EOS token's, then the other eos_token_id of generation_config.json
   * and config.json (Llama 3 instruct lists several). Empty when there is no EOS.
   */
  readonly eosIds: readonly number[];
  /** Ids that `addSpecialTokens` puts before / after a text. */
  readonly prefixIds: readonly number[];
  readonly suffixIds: readonly number[];
  /** Strings that are control tokens (never produced from user text). */
  readonly specialTokens: readonly string[];
  /** The Jinja chat template of tokenizer_config.json (or chat_template.jinja), if any. */
  readonly chatTemplate: string | undefined;
  /** model_max_length of tokenizer_config.json, when it is a real limit. */
  readonly modelMaxLength: number | undefined;
  /** sha256 over tokenizer.json and the config rules applied here: changes when the tokenization can. */
  readonly fingerprint: string;

  encode(text: string, options?: EncodeOptions): Promise<number[]>;
  encodeBatch(texts: readonly string[], options?: EncodeOptions): Promise<number[][]>;
  /** Encodes pieces as one text, adding no BOS/EOS, and tells which tokens each piece's text went into. */
  encodePieces(pieces: readonly TextPiece[]): Promise<PieceEncoding>;
  encodePiecesBatch(texts: readonly (readonly TextPiece[])[]): Promise<PieceEncoding[]>;
  decode(ids: readonly number[], options?: DecodeOptions): Promise<string>;
  idToToken(id: number): string | undefined;
  tokenToId(token: string): number | undefined;
}

/** A tokenizer file that cannot be used: names the file and what to do. */
export class TokenizerError extends Error {
  override readonly name = 'TokenizerError';
  constructor(
    readonly file: string,
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${file}: ${problem}\n  fix: ${fix}`);
  }
}

const FETCH_FIX = "copy the model's tokenizer.json (and tokenizer_config.json) from its Hugging Face page into that folder";
const convertFix = (dir: string) =>
  `convert it once with Python: python -c "from transformers import AutoTokenizer as T; T.from_pretrained('${dir}').save_pretrained('${dir}')" (writes tokenizer.json), or ${FETCH_FIX}`;

/** The special-token ids of config.json / generation_config.json, the fallback after tokenizer_config.json. */
interface SidecarIds { config: HfSpecialTokenIds | null; generation: HfSpecialTokenIds | null }
const NO_SIDECARS: SidecarIds = { config: null, generation: null };

/**
 * Loads `modelDir/tokenizer.json` (or a tokenizer.json path) with `modelDir/tokenizer_config.json`
 * (optional) for BOS/EOS/PAD and the chat template, and config.json / generation_config.json for the
 * special-token ids tokenizer_config.json does not name. A folder with vocab.json + merges.txt and no
 * tokenizer.json loads as transformers' GPT2TokenizerFast would convert it.
 */
export async function loadTokenizer(modelDir: string): Promise<Tokenizer> {
  const file = modelDir.endsWith('.json') ? modelDir : join(modelDir, 'tokenizer.json');
  const dir = dirname(file);
  const inFolder = basename(file) === 'tokenizer.json';
  if (!existsSync(file)) {
    const what = existsSync(dir) ? `has no ${basename(file)}` : 'does not exist';
    if (inFolder && existsSync(join(dir, 'vocab.json'))) return loadVocabMerges(dir, file);
    if (inFolder && existsSync(join(dir, 'tokenizer.model'))) {
      throw new TokenizerError(file, `the model folder ${what}, only a SentencePiece tokenizer.model, which Fine-Tune Lab cannot read`, convertFix(dir));
    }
    throw new TokenizerError(file, `the model folder ${what}`, FETCH_FIX);
  }
  if (statSync(file).isDirectory()) throw new TokenizerError(file, 'is a folder, not a tokenizer.json file', FETCH_FIX);
  const raw = readFileSync(file);
  let json: TokenizerJson;
  try {
    json = JSON.parse(raw.toString('utf8')) as TokenizerJson;
  } catch (error) {
    throw new TokenizerError(file, `is not valid JSON (${(error as Error).message}); the file is damaged or truncated`, `download it again: ${FETCH_FIX}`);
  }
  if (typeof json !== 'object' || json === null || typeof json.model !== 'object' || json.model === null) {
    throw new TokenizerError(file, 'is not a Hugging Face tokenizer.json (no "model" section)', `use the tokenizer.json of a "fast" tokenizer: ${FETCH_FIX}`);
  }
  let rust: RustTokenizer;
  try {
    rust = RustTokenizer.fromString(raw.toString('utf8'));
  } catch (error) {
    throw new TokenizerError(file, `cannot be loaded by the tokenizers library: ${(error as Error).message}`, `download it again, or use a tokenizer.json saved by transformers >= 4.40: ${FETCH_FIX}`);
  }
  const config = inFolder ? await folderTokenizerConfig(dir) : null;
  const ids = inFolder ? await folderSpecialIds(dir) : NO_SIDECARS;
  return HfTokenizer.create(file, raw, json, rust, config, ids);
}

async function folderTokenizerConfig(dir: string): Promise<HfTokenizerConfig | null> {
  try {
    return await readTokenizerConfig(dir);
  } catch (error) {
    const where = error instanceof CheckpointError && error.file ? error.file : join(dir, 'tokenizer_config.json');
    throw new TokenizerError(where, `cannot be read: ${(error as Error).message}`, 'fix or remove tokenizer_config.json (without it, the tokenizer.json post-processor decides BOS/EOS)');
  }
}

async function folderSpecialIds(dir: string): Promise<SidecarIds> {
  try {
    return await readSpecialTokenIds(dir);
  } catch (error) {
    const where = error instanceof CheckpointError && error.file ? error.file : join(dir, 'config.json');
    throw new TokenizerError(where, `cannot be read for the special-token ids: ${(error as Error).message}`, 'fix the file (bos_token_id / eos_token_id / pad_token_id are token ids), or download it again');
  }
}

/** The defaults of transformers' tokenizer classes (their __init__ arguments); AutoTokenizer picks the class by model_type. */
const CLASS_DEFAULTS: Readonly<Record<string, Readonly<{ bos?: string; eos?: string; pad?: string; unk?: string }>>> = {
  GPT2Tokenizer: { bos: '<|endoftext|>', eos: '<|endoftext|>', unk: '<|endoftext|>' },
  LlamaTokenizer: { bos: '<s>', eos: '</s>', unk: '<unk>' },
  Qwen2Tokenizer: { eos: '<|endoftext|>', pad: '<|endoftext|>', unk: '<|endoftext|>' },
};
const CLASS_OF_MODEL_TYPE: Readonly<Record<string, string>> = { gpt2: 'GPT2Tokenizer', llama: 'LlamaTokenizer', mistral: 'LlamaTokenizer', qwen2: 'Qwen2Tokenizer' };

function tokenizerClass(config: HfTokenizerConfig | null, ids: SidecarIds): string | undefined {
  return (config?.tokenizerClass ?? CLASS_OF_MODEL_TYPE[ids.config?.modelType ?? ''])?.replace(/Fast$/, '');
}

interface SpecialTokens { bos?: string; eos?: string; pad?: string; unk?: string }

/**
 * BOS/EOS/PAD/UNK as transformers resolves them: tokenizer_config.json (and special_tokens_map.json), then
 * the ids of config.json, then generation_config.json, then the tokenizer class's defaults.
 */
function resolveSpecialTokens(config: HfTokenizerConfig | null, ids: SidecarIds, idToToken: (id: number) => string | undefined): SpecialTokens {
  const defaults = CLASS_DEFAULTS[tokenizerClass(config, ids) ?? ''] ?? {};
  const byId = (id: number | null | undefined) => (id == null ? undefined : idToToken(id));
  // "eos_token": null in tokenizer_config.json says "none" (Qwen2.5's bos_token): no fallback then.
  const pick = (key: 'bos' | 'eos' | 'pad' | 'unk', ...fallbacks: (string | undefined)[]) =>
    config?.[key] ? config[key].content : config?.raw[`${key}_token`] === null ? undefined : fallbacks.find((t) => t !== undefined);
  return {
    bos: pick('bos', byId(ids.config?.bos), byId(ids.generation?.bos), defaults.bos),
    eos: pick('eos', byId(ids.config?.eos[0]), byId(ids.generation?.eos[0]), defaults.eos),
    pad: pick('pad', byId(ids.config?.pad), byId(ids.generation?.pad), defaults.pad),
    unk: pick('unk', defaults.unk),
  };
}

/**
 * A folder with GPT-2's original files (vocab.json + merges.txt, no tokenizer.json): the tokenizer.json
 * transformers' GPT2Converter builds from them (byte-level BPE, the special tokens as added tokens).
 */
async function loadVocabMerges(dir: string, missing: string): Promise<Tokenizer> {
  const vocabFile = join(dir, 'vocab.json');
  const mergesFile = join(dir, 'merges.txt');
  const config = await folderTokenizerConfig(dir);
  const ids = await folderSpecialIds(dir);
  const cls = tokenizerClass(config, ids) ?? 'GPT2Tokenizer';
  if (cls !== 'GPT2Tokenizer') {
    throw new TokenizerError(missing, `the model folder has no tokenizer.json, and its vocab.json + merges.txt are for ${cls}, which Fine-Tune Lab converts only for GPT2Tokenizer`, convertFix(dir));
  }
  if (!existsSync(mergesFile)) throw new TokenizerError(missing, 'the model folder has no tokenizer.json, and vocab.json without merges.txt is not a GPT-2 tokenizer', convertFix(dir));
  let vocab: Record<string, number>;
  try {
    vocab = JSON.parse(readFileSync(vocabFile, 'utf8')) as Record<string, number>;
  } catch (error) {
    throw new TokenizerError(vocabFile, `is not valid JSON (${(error as Error).message}); the file is damaged or truncated`, `download it again, or ${convertFix(dir)}`);
  }
  if (typeof vocab !== 'object' || vocab === null || Array.isArray(vocab) || !Object.values(vocab).every((v) => Number.isSafeInteger(v) && v >= 0)) {
    throw new TokenizerError(vocabFile, 'is not a GPT-2 vocabulary (an object from token to id)', `download it again, or ${convertFix(dir)}`);
  }
  const merges: string[] = [];
  readFileSync(mergesFile, 'utf8').split(/\r?\n/).forEach((line, i) => {
    if ((i === 0 && line.startsWith('#version')) || line.trim() === '') return;
    if (line.split(' ').length !== 2) throw new TokenizerError(`${mergesFile}:${i + 1}`, `is not a merge (two tokens separated by one space): ${JSON.stringify(line.slice(0, 80))}`, `download merges.txt again, or ${convertFix(dir)}`);
    merges.push(line);
  });
  const byId = new Map(Object.entries(vocab).map(([t, id]) => [id, t]));
  const specials = resolveSpecialTokens(config, ids, (id) => byId.get(id));
  const added: AddedTokenJson[] = [];
  const addedFile = join(dir, 'added_tokens.json');
  if (existsSync(addedFile)) {
    let extra: Record<string, number>;
    try {
      extra = JSON.parse(readFileSync(addedFile, 'utf8')) as Record<string, number>;
    } catch (error) {
      throw new TokenizerError(addedFile, `is not valid JSON (${(error as Error).message})`, `download it again, or ${convertFix(dir)}`);
    }
    for (const [content, id] of Object.entries(extra)) {
      if (!Number.isSafeInteger(id)) throw new TokenizerError(addedFile, `gives ${JSON.stringify(content)} the id ${JSON.stringify(id)}, not a token id`, `download it again, or ${convertFix(dir)}`);
      added.push({ id, content, special: false, single_word: false, lstrip: false, rstrip: false, normalized: true });
    }
  }
  const special = new Set([specials.bos, specials.eos, specials.pad, specials.unk].filter((t): t is string => t !== undefined));
  for (const content of special) {
    const at = added.find((a) => a.content === content);
    if (at) at.special = true;
    else if (vocab[content] !== undefined) added.push({ id: vocab[content], content, special: true, single_word: false, lstrip: false, rstrip: false, normalized: true });
  }
  added.sort((a, b) => a.id - b.id);
  const addPrefixSpace = config?.raw['add_prefix_space'] === true;
  const byteLevel = (prefix: boolean, trim: boolean) => ({ type: 'ByteLevel', add_prefix_space: prefix, trim_offsets: trim, use_regex: true });
  const json: TokenizerJson = {
    version: '1.0', truncation: null, padding: null, added_tokens: added, normalizer: null,
    pre_tokenizer: byteLevel(addPrefixSpace, true), post_processor: byteLevel(true, false), decoder: byteLevel(true, true),
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '',
      fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges,
    },
  };
  const text = JSON.stringify(json);
  let rust: RustTokenizer;
  try {
    rust = RustTokenizer.fromString(text);
  } catch (error) {
    throw new TokenizerError(vocabFile, `with merges.txt cannot be loaded by the tokenizers library: ${(error as Error).message}`, convertFix(dir));
  }
  return HfTokenizer.create(vocabFile, Buffer.from(text), json, rust, config, ids);
}

interface AddedTokenJson {
  id: number;
  content: string;
  special?: boolean;
  single_word?: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
  normalized?: boolean;
}

interface TokenizerJson {
  added_tokens?: AddedTokenJson[];
  model: Record<string, unknown>;
  [key: string]: unknown;
}

// Placeholder i: U+FDD0, three base-30 digits in U+FDD2..U+FDEF, U+FDD1.
const NONCHAR = /[\uFDD0-\uFDEF]/g;
function placeholder(i: number): string {
  const d = (k: number) => String.fromCharCode(0xfdd2 + (Math.floor(i / 30 ** k) % 30));
  return `\uFDD0${d(2)}${d(1)}${d(0)}\uFDD1`;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

class HfTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly padId: number | undefined;
  readonly bosToken: string | undefined;
  readonly eosToken: string | undefined;
  readonly padToken: string | undefined;
  readonly eosIds: readonly number[];
  readonly prefixIds: readonly number[];
  readonly suffixIds: readonly number[];
  readonly specialTokens: readonly string[];
  readonly chatTemplate: string | undefined;
  readonly modelMaxLength: number | undefined;
  readonly fingerprint: string;

  private constructor(
    readonly source: string,
    private readonly full: RustTokenizer,
    private readonly guarded: RustTokenizer,
    /** guarded id -> real id, where they differ (placeholders and added tokens shifted by them). */
    private readonly remap: Map<number, number>,
    /** special-token string -> its placeholder in `guarded`. */
    private readonly placeholders: Map<string, string>,
    private readonly specialPattern: RegExp | undefined,
    fields: {
      vocabSize: number; bos?: string; eos?: string; pad?: string; moreEosIds: number[]; prefix: number[]; suffix: number[];
      specials: string[]; chatTemplate?: string; modelMaxLength?: number; fingerprint: string;
    },
  ) {
    this.vocabSize = fields.vocabSize;
    this.bosToken = fields.bos;
    this.eosToken = fields.eos;
    this.padToken = fields.pad;
    this.bosId = this.idOf(fields.bos);
    this.eosId = this.idOf(fields.eos);
    this.padId = this.idOf(fields.pad);
    this.eosIds = this.eosId === undefined ? [] : [...new Set([this.eosId, ...fields.moreEosIds.filter((id) => id < fields.vocabSize)])];
    this.prefixIds = fields.prefix;
    this.suffixIds = fields.suffix;
    this.specialTokens = fields.specials;
    this.chatTemplate = fields.chatTemplate;
    this.modelMaxLength = fields.modelMaxLength;
    this.fingerprint = fields.fingerprint;
  }

  static async create(file: string, raw: Buffer, json: TokenizerJson, full: RustTokenizer, config: HfTokenizerConfig | null, ids: SidecarIds): Promise<HfTokenizer> {
    const added = Array.isArray(json.added_tokens) ? json.added_tokens : [];
    const has = (t: string | undefined): t is string => t !== undefined && full.tokenToId(t) !== null;
    const { bos, eos, pad, unk } = resolveSpecialTokens(config, ids, (id) => full.idToToken(id) ?? undefined);
    const extra = Array.isArray(config?.raw['additional_special_tokens'])
      ? (config.raw['additional_special_tokens'] as unknown[]).map((t) => (typeof t === 'string' ? t : (t as { content?: unknown })?.content)).filter((t): t is string => typeof t === 'string')
      : [];
    const specials = [...new Set([
      ...added.filter((t) => t.special).map((t) => t.content),
      ...[bos, eos, pad, unk, ...extra].filter(has),
    ])].filter((t) => t !== '');

    // The guarded twin: same JSON, special tokens renamed to placeholders (appended when only the model
    // vocabulary or the config knows them).
    const placeholders = new Map(specials.map((s, i) => [s, placeholder(i)]));
    const twin = JSON.parse(raw.toString('utf8')) as TokenizerJson;
    const twinAdded = Array.isArray(twin.added_tokens) ? twin.added_tokens : [];
    for (const t of twinAdded) if (placeholders.has(t.content)) t.content = placeholders.get(t.content)!;
    const listed = new Set(added.map((t) => t.content));
    for (const s of specials) {
      if (!listed.has(s)) twinAdded.push({ id: full.tokenToId(s)!, content: placeholders.get(s)!, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
    }
    twin.added_tokens = twinAdded;
    const guarded = RustTokenizer.fromString(JSON.stringify(twin));
    const remap = new Map<number, number>();
    const modelSize = guarded.getVocabSize(false);
    for (const t of [...specials, ...added.filter((a) => !placeholders.has(a.content)).map((a) => a.content)]) {
      const g = guarded.tokenToId(placeholders.get(t) ?? t);
      const o = full.tokenToId(t);
      if (g === null || o === null) continue;
      if (g !== o) {
        // A shifted id inside the model's own range would be ambiguous with a real token.
        if (g < modelSize) throw new TokenizerError(file, `cannot guard the special token ${JSON.stringify(t)} (id ${o})`, 'report this tokenizer to the Fine-Tune Lab maintainers');
        remap.set(g, o);
      }
    }
    const specialPattern = specials.length
      ? new RegExp([...specials].sort((a, b) => b.length - a.length).map(escapeRegExp).join('|'), 'g')
      : undefined;

    let vocabSize = full.getVocabSize(true);
    for (const t of added) if (Number.isInteger(t.id)) vocabSize = Math.max(vocabSize, t.id + 1);

    // What addSpecialTokens adds: the config says for BOS/EOS when it says; otherwise the tokenizer.json
    // post-processor decides, read off by encoding a probe with and without it.
    const probe = 'a';
    const plain = (await full.encode(probe, null, { addSpecialTokens: false })).getIds();
    const withSpecial = (await full.encode(probe, null, { addSpecialTokens: true })).getIds();
    let at = 0;
    while (at + plain.length <= withSpecial.length && plain.some((id, k) => withSpecial[at + k] !== id)) at++;
    let prefix = withSpecial.slice(0, at);
    let suffix = withSpecial.slice(at + plain.length);
    if (at + plain.length > withSpecial.length) { prefix = []; suffix = []; }
    const idOf = (t: string | undefined) => (t === undefined ? undefined : full.tokenToId(t) ?? undefined);
    if (config?.addBosToken != null) {
      const b = idOf(bos);
      if (config.addBosToken && b === undefined) throw new TokenizerError(join(dirname(file), 'tokenizer_config.json'), 'add_bos_token is true but bos_token is not set or not in the vocabulary', 'set bos_token to a token of tokenizer.json, or add_bos_token to false');
      prefix = config.addBosToken ? [b!] : prefix.filter((id) => id !== b);
    }
    if (config?.addEosToken != null) {
      const e = idOf(eos);
      if (config.addEosToken && e === undefined) throw new TokenizerError(join(dirname(file), 'tokenizer_config.json'), 'add_eos_token is true but eos_token is not set or not in the vocabulary', 'set eos_token to a token of tokenizer.json, or add_eos_token to false');
      suffix = config.addEosToken ? [e!] : suffix.filter((id) => id !== e);
    }

    const chatTemplate = config?.chatTemplate ?? undefined;
    const rules = { bos, eos, pad, prefix, suffix, specials, chatTemplate };
    const fingerprint = createHash('sha256').update(raw).update(JSON.stringify(rules)).digest('hex');
    return new HfTokenizer(file, full, guarded, remap, placeholders, specialPattern, {
      vocabSize, bos: has(bos) ? bos : undefined, eos: has(eos) ? eos : undefined, pad: has(pad) ? pad : undefined,
      moreEosIds: [...(ids.generation?.eos ?? []), ...(ids.config?.eos ?? [])],
      prefix, suffix, specials, chatTemplate, modelMaxLength: config?.modelMaxLength ?? undefined, fingerprint,
    });
  }

  private idOf(token: string | undefined): number | undefined {
    return token === undefined ? undefined : this.full.tokenToId(token) ?? undefined;
  }

  async encode(text: string, options: EncodeOptions = {}): Promise<number[]> {
    return (await this.encodeBatch([text], options))[0]!;
  }

  async encodeBatch(texts: readonly string[], options: EncodeOptions = {}): Promise<number[][]> {
    const add = options.addSpecialTokens ?? true;
    const input = texts.map((t) => {
      if (typeof t !== 'string') throw new TypeError(`encode expects strings, got ${typeof t}`);
      return options.parseSpecialTokens ? this.guardTrusted(t) : this.guardUser(t);
    });
    const encodings = input.length ? await this.guarded.encodeBatch(input, { addSpecialTokens: false }) : [];
    return encodings.map((e) => {
      const ids = this.realIds(e.getIds());
      return add ? [...this.prefixIds, ...ids, ...this.suffixIds] : ids;
    });
  }

  async encodePieces(pieces: readonly TextPiece[]): Promise<PieceEncoding> {
    return (await this.encodePiecesBatch([pieces]))[0]!;
  }

  async encodePiecesBatch(texts: readonly (readonly TextPiece[])[]): Promise<PieceEncoding[]> {
    const prepared = texts.map((pieces) => this.joinPieces(pieces));
    const encodings = prepared.length ? await this.guarded.encodeBatch(prepared.map((p) => p.text), { addSpecialTokens: false }) : [];
    return encodings.map((e, i) => ({ ids: this.realIds(e.getIds()), pieceTokens: tokensOfPieces(e, prepared[i]!.charRanges) }));
  }

  async decode(ids: readonly number[], options: DecodeOptions = {}): Promise<string> {
    if (ids.length === 0) return '';
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw new RangeError(`token id ${id} is outside the vocabulary [0, ${this.vocabSize})`);
    }
    return this.full.decode([...ids], options.skipSpecialTokens ?? false);
  }

  idToToken(id: number): string | undefined {
    if (!Number.isInteger(id) || id < 0) return undefined;
    return this.full.idToToken(id) ?? undefined;
  }

  tokenToId(token: string): number | undefined {
    return this.full.tokenToId(token) ?? undefined;
  }

  private realIds(ids: number[]): number[] {
    if (this.remap.size) for (let i = 0; i < ids.length; i++) ids[i] = this.remap.get(ids[i]!) ?? ids[i]!;
    return ids;
  }

  /** User text: the placeholders' noncharacters become U+FFFD (same length) so no placeholder can form. */
  private guardUser(text: string): string {
    return this.placeholders.size && /[\uFDD0-\uFDEF]/.test(text) ? text.replace(NONCHAR, '\uFFFD') : text;
  }

  /** Trusted text: special-token strings become placeholders (leftmost-longest, as the Rust matcher). */
  private guardTrusted(text: string): string {
    const clean = this.guardUser(text);
    if (!this.specialPattern) return clean;
    this.specialPattern.lastIndex = 0;
    return clean.replace(this.specialPattern, (m: string) => this.placeholders.get(m)!);
  }

  /** The guarded text and, per piece, its [start, end) in Unicode scalar values (Rust's char offsets). */
  private joinPieces(pieces: readonly TextPiece[]): { text: string; charRanges: Uint32Array } {
    const parts: string[] = [];
    const charRanges = new Uint32Array(pieces.length * 2);
    let chars = 0;
    for (let k = 0; k < pieces.length; k++) {
      const p = pieces[k]!;
      if (typeof p.text !== 'string') throw new TypeError(`piece ${k} has no text`);
      const g = p.trusted ? this.guardTrusted(p.text) : this.guardUser(p.text);
      parts.push(g);
      charRanges[2 * k] = chars;
      chars += g.length - (SURROGATE.test(g) ? (g.match(PAIRS)?.length ?? 0) : 0);
      charRanges[2 * k + 1] = chars;
    }
    return { text: parts.join(''), charRanges };
  }
}

const SURROGATE = /[\uD800-\uDBFF]/;
const PAIRS = /[\uD800-\uDBFF][\uDC00-\uDFFF]/g;

/** [first, end) tokens over each piece's characters: the tokens of its first and last characters that have one. */
function tokensOfPieces(e: RustEncoding, charRanges: Uint32Array): Uint32Array {
  const out = new Uint32Array(charRanges.length);
  for (let k = 0; k < charRanges.length; k += 2) {
    const a = charRanges[k]!;
    const b = charRanges[k + 1]!;
    let first: number | null = null;
    let last: number | null = null;
    let c = a;
    for (; c < b && first === null; c++) first = e.charToToken(c);
    for (c = b - 1; c >= a && last === null; c--) last = e.charToToken(c);
    if (first !== null && last !== null) {
      // a character can span several tokens (an emoji in byte-level BPE): charToToken gives the first
      const lastChar = c + 1;
      for (let next = e.tokenToChars(last + 1); next && next[0] <= lastChar; next = e.tokenToChars(last + 1)) last++;
      out[k] = first;
      out[k + 1] = last + 1;
    }
  }
  return out;
}
