// Tokenizers: Hugging Face's own Rust library (`tokenizers`, loaded from a model's tokenizer.json) does
// the splitting and merging; this file adds what that library leaves to its callers:
//   - tokenizer_config.json rules: add_bos_token / add_eos_token and the bos/eos/pad tokens;
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
import { readTokenizerConfig, type HfTokenizerConfig } from './checkpoint/hfConfig';

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
  /** Where it was loaded from (the tokenizer.json path). */
  readonly source: string;
  /** Number of token ids (model vocabulary + added tokens): every id is below it. */
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly padId: number | undefined;
  readonly bosToken: string | undefined;
  readonly eosToken: string | undefined;
  readonly padToken: string | undefined;
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

/**
 * Loads `modelDir/tokenizer.json` (or a tokenizer.json path) with `modelDir/tokenizer_config.json`
 * (optional) for BOS/EOS/PAD and the chat template.
 */
export async function loadTokenizer(modelDir: string): Promise<Tokenizer> {
  const file = modelDir.endsWith('.json') ? modelDir : join(modelDir, 'tokenizer.json');
  const dir = dirname(file);
  if (!existsSync(file)) {
    const what = existsSync(dir) ? `has no ${basename(file)}` : 'does not exist';
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
  let config: HfTokenizerConfig | null = null;
  if (basename(file) === 'tokenizer.json') {
    try {
      config = await readTokenizerConfig(dir);
    } catch (error) {
      const where = error instanceof CheckpointError && error.file ? error.file : join(dir, 'tokenizer_config.json');
      throw new TokenizerError(where, `cannot be read: ${(error as Error).message}`, 'fix or remove tokenizer_config.json (without it, the tokenizer.json post-processor decides BOS/EOS)');
    }
  }
  return HfTokenizer.create(file, raw, json, rust, config);
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
      vocabSize: number; bos?: string; eos?: string; pad?: string; prefix: number[]; suffix: number[];
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
    this.prefixIds = fields.prefix;
    this.suffixIds = fields.suffix;
    this.specialTokens = fields.specials;
    this.chatTemplate = fields.chatTemplate;
    this.modelMaxLength = fields.modelMaxLength;
    this.fingerprint = fields.fingerprint;
  }

  static async create(file: string, raw: Buffer, json: TokenizerJson, full: RustTokenizer, config: HfTokenizerConfig | null): Promise<HfTokenizer> {
    const added = Array.isArray(json.added_tokens) ? json.added_tokens : [];
    const has = (t: string | undefined): t is string => t !== undefined && full.tokenToId(t) !== null;
    const bos = config?.bos?.content;
    const eos = config?.eos?.content;
    const pad = config?.pad?.content;
    const extra = Array.isArray(config?.raw['additional_special_tokens'])
      ? (config.raw['additional_special_tokens'] as unknown[]).map((t) => (typeof t === 'string' ? t : (t as { content?: unknown })?.content)).filter((t): t is string => typeof t === 'string')
      : [];
    const specials = [...new Set([
      ...added.filter((t) => t.special).map((t) => t.content),
      ...[bos, eos, pad, config?.unk?.content, ...extra].filter(has),
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
