// `ftlab prepare`: a Q&A data file (or a replay corpus) -> a prepared dataset folder for training.
import { basename, dirname, extname, join } from 'node:path';
import { UsageError, type CliCommand } from '../command';
import {
  DataError, DataValidationError, type DatasetManifest, type LengthStats, prepareCorpus, DEFAULT_MAX_LENGTH, prepareDataset, type PrepareOptions, type PrepareProgress, DEFAULT_PROMPT_TEMPLATE, DATA_FORMATS, type DataFormat, loadTokenizer, TokenizerError, BUILTIN_MODEL_DIR,
} from '../../engine';
import { CLI_OPTION_WORDS } from '../optionWords';

const usage = `Usage: ftlab prepare <data-file> [--tokenizer <model-dir>] [options]
       ftlab prepare --train <file> [--validation <file>] [--test <file>] [--tokenizer <model-dir>] [options]
       ftlab prepare --corpus <text-file> --seq-length <n> [--tokenizer <model-dir>] [--out <dir>]

Checks a Q&A data file (JSONL, JSON array, CSV, TSV; question/answer, q/a, prompt/completion,
alpaca, chat messages, ShareGPT or pre-tokenized input_ids), applies the template, tokenizes,
leaves the prompt out of the loss, splits it with a seed and writes a prepared dataset folder.
If any record is invalid, nothing is written: each problem is listed with file, line and fix.
An up-to-date folder (same data, tokenizer, template and settings) is reused as it is.

  --tokenizer <dir>        model folder with tokenizer.json (and tokenizer_config.json);
                           default: the built-in model's tokenizer
  --out <dir>              output folder (default: <data-file>.prepared beside the data)
  --format <f>             ${DATA_FORMATS.join(' | ')} (default: from the file extension)
  --question-field <name>  the field with the question (default: detected)
  --answer-field <name>    the field with the answer
  --messages-field <name>  the field with chat messages
  --template <text>        prompt template with {question} and {answer}; \\n is a line break
                           (default: ${JSON.stringify(DEFAULT_PROMPT_TEMPLATE)})
  --chat-template          use the model's chat template for every record
  --no-chat-template       never use it (single-turn chats take the prompt template)
  --train-on-prompt        count the whole text in the loss (default: answer tokens only)
  --no-eos                 do not end examples with the EOS token
  --max-length <n>         longest example in tokens (default ${DEFAULT_MAX_LENGTH})
  --truncate | --drop-long cut or leave out longer examples (default: report them as errors)
  --split <a,b,c>          train,validation,test shares of one file (default 0.8,0.1,0.1)
  --seed <n>               split seed (default 0)
  --skip-invalid           leave invalid records out; they are listed in <out>/skipped.jsonl
  --force                  prepare again even when the folder is up to date
  --json                   print the manifest as JSON on stdout
  --corpus <file>          a plain-text corpus for replay (.txt: documents separated by blank
                           lines; .jsonl: one {"text": ...} per line), packed into sequences
  --seq-length <n>         tokens per packed sequence (--corpus)
  --text-field <name>      the text field of a .jsonl corpus (default "text")`;

interface Args {
  data?: string;
  train?: string;
  validation?: string;
  test?: string;
  corpus?: string;
  tokenizer?: string;
  out?: string;
  format?: DataFormat;
  fields: { question?: string; answer?: string; messages?: string };
  template?: string;
  chatTemplate?: boolean;
  trainOnPrompt: boolean;
  eos: boolean;
  maxLength?: number;
  overLength: 'error' | 'truncate' | 'drop';
  split?: { validation: number; test: number };
  seed?: number;
  skipInvalid: boolean;
  force: boolean;
  json: boolean;
  seqLength?: number;
  textField?: string;
}

/** \n, \t and \\ in a template typed on the command line. */
function unescape(s: string): string {
  return s.replace(/\\(n|t|\\)/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : '\\'));
}

function integer(arg: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${arg} needs a whole number >= ${min}, got '${v}'`);
  return n;
}

export function parsePrepareArgs(argv: readonly string[]): Args {
  const a: Args = { fields: {}, trainOnPrompt: false, eos: true, overLength: 'error', skipInvalid: false, force: false, json: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || (v.startsWith('--') && v.length > 2)) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case '--tokenizer': a.tokenizer = value(); break;
      case '--out': a.out = value(); break;
      case '--train': a.train = value(); break;
      case '--validation': a.validation = value(); break;
      case '--test': a.test = value(); break;
      case '--corpus': a.corpus = value(); break;
      case '--format': {
        const f = value();
        if (!(DATA_FORMATS as readonly string[]).includes(f)) throw new UsageError(`--format is one of ${DATA_FORMATS.join(', ')}, got '${f}'`);
        a.format = f as DataFormat;
        break;
      }
      case '--question-field': a.fields.question = value(); break;
      case '--answer-field': a.fields.answer = value(); break;
      case '--messages-field': a.fields.messages = value(); break;
      case '--template': a.template = unescape(value()); break;
      case '--chat-template': a.chatTemplate = true; break;
      case '--no-chat-template': a.chatTemplate = false; break;
      case '--train-on-prompt': a.trainOnPrompt = true; break;
      case '--no-eos': a.eos = false; break;
      case '--max-length': a.maxLength = integer(arg, value(), 2); break;
      case '--truncate': a.overLength = 'truncate'; break;
      case '--drop-long': a.overLength = 'drop'; break;
      case '--split': {
        const v = value();
        const parts = v.split(',').map(Number);
        if (parts.length !== 3 || parts.some((p) => !(p >= 0)) || Math.abs(parts[0]! + parts[1]! + parts[2]! - 1) > 1e-6 || !(parts[0]! > 0)) {
          throw new UsageError(`--split needs three shares train,validation,test that add up to 1, e.g. 0.8,0.1,0.1; got '${v}'`);
        }
        a.split = { validation: parts[1]!, test: parts[2]! };
        break;
      }
      case '--seed': a.seed = integer(arg, value(), 0); break;
      case '--skip-invalid': a.skipInvalid = true; break;
      case '--force': a.force = true; break;
      case '--json': a.json = true; break;
      case '--seq-length': a.seqLength = integer(arg, value(), 2); break;
      case '--text-field': a.textField = value(); break;
      default:
        if (arg.startsWith('-')) throw new UsageError(`unknown option '${arg}'`);
        if (a.data !== undefined) throw new UsageError(`unexpected argument '${arg}' (one data file; use --train/--validation/--test for several)`);
        a.data = arg;
    }
  }
  const inputs = [a.data, a.train, a.corpus].filter((x) => x !== undefined).length;
  if (inputs === 0) throw new UsageError('give a data file (or --train, or --corpus)');
  if (inputs > 1) throw new UsageError('give one of: a data file, --train, --corpus');
  if ((a.validation || a.test) && !a.train) throw new UsageError('--validation and --test go with --train');
  if (a.split && !a.data) throw new UsageError('--split applies to a single data file');
  if (a.corpus && a.seqLength === undefined) throw new UsageError('--corpus needs --seq-length');
  return a;
}

function defaultOut(file: string): string {
  return join(dirname(file), `${basename(file, extname(file))}.prepared`);
}

function statsRow(name: string, s: LengthStats): string {
  const share = `${(s.trainedShare * 100).toFixed(1)}%`;
  return `  ${name.padEnd(11)}${String(s.examples).padStart(9)}${String(s.tokens).padStart(12)}${share.padStart(9)}   ${s.p50} / ${s.p95} / ${s.max}`;
}

export function describeManifest(m: DatasetManifest, dir: string): string {
  const lines = [
    `${m.kind === 'packed' ? 'Packed' : 'Prepared'} ${m.counts.examples} ${m.kind === 'packed' ? 'sequences' : 'examples'} from ${m.sources.map((s) => `${basename(s.path)}${s.fields ? ` (${s.fields})` : ''}`).join(', ')}`,
    `  into ${dir}`,
    `  ${'split'.padEnd(11)}${'examples'.padStart(9)}${'tokens'.padStart(12)}${'trained'.padStart(9)}   length p50 / p95 / max`,
    ...(m.kind === 'packed' ? [statsRow('train', m.stats.train)] : (['train', 'validation', 'test'] as const).map((s) => statsRow(s, m.stats[s]))),
  ];
  const notes: string[] = [];
  if (m.counts.truncated) notes.push(`${m.counts.truncated} truncated to ${m.settings.maxLength} tokens`);
  if (m.counts.droppedTooLong) notes.push(`${m.counts.droppedTooLong} longer than ${m.settings.maxLength} tokens left out`);
  if (m.counts.skipped) notes.push(`${m.counts.skipped} invalid records skipped (${Object.entries(m.skippedByCode).map(([k, n]) => `${n} ${k}`).join(', ')}; listed in skipped.jsonl)`);
  if (m.counts.droppedTailTokens) notes.push(`${m.counts.droppedTailTokens} tokens after the last full sequence left out`);
  return [...lines, ...notes.map((n) => `  ${n}`)].join('\n');
}

function progress(): ((p: PrepareProgress) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  const started = Date.now();
  return (p) => {
    const pct = p.totalBytes ? ` ${((100 * p.bytesRead) / p.totalBytes).toFixed(0)}%` : '';
    const rate = p.bytesRead / 1e6 / Math.max(0.001, (Date.now() - started) / 1000);
    process.stderr.write(`\r\x1b[K${basename(p.file)}${pct}  ${p.examples} examples  ${rate.toFixed(1)} MB/s`);
  };
}

export const prepare: CliCommand = {
  name: 'prepare',
  summary: 'Check, template and tokenize Q&A data into a prepared dataset for training',
  usage,
  async run(argv) {
    const a = parsePrepareArgs(argv);
    const onProgress = progress();
    try {
      const tokenizer = await loadTokenizer(a.tokenizer ?? BUILTIN_MODEL_DIR);
      let result: { dir: string; manifest: DatasetManifest; reused: boolean };
      if (a.corpus) {
        result = await prepareCorpus({
          source: a.corpus, tokenizer, outDir: a.out ?? defaultOut(a.corpus), seqLength: a.seqLength!, textField: a.textField,
          skipInvalid: a.skipInvalid, force: a.force, onProgress,
        });
      } else {
        const source: PrepareOptions['source'] = a.data ?? { train: a.train!, validation: a.validation, test: a.test };
        result = await prepareDataset({
          source, tokenizer, outDir: a.out ?? defaultOut(a.data ?? a.train!), format: a.format, fields: a.fields,
          template: a.template, chatTemplate: a.chatTemplate, trainOn: a.trainOnPrompt ? 'all' : 'answer', appendEos: a.eos,
          maxLength: a.maxLength, overLength: a.overLength, split: a.split, seed: a.seed, skipInvalid: a.skipInvalid, force: a.force,
          onProgress,
        });
      }
      if (onProgress) process.stderr.write('\r\x1b[K');
      if (a.json) console.log(JSON.stringify({ dir: result.dir, reused: result.reused, manifest: result.manifest }, null, 2));
      else if (result.reused) console.log(`Up to date: ${result.dir} (same data, tokenizer, template and settings); --force prepares it again.`);
      else console.log(describeManifest(result.manifest, result.dir));
      return 0;
    } catch (error) {
      if (onProgress) process.stderr.write('\r\x1b[K');
      if (error instanceof DataValidationError || error instanceof DataError) console.error(error.describe(CLI_OPTION_WORDS));
      else if (error instanceof TokenizerError) console.error(error.message);
      else throw error;
      return 1;
    }
  },
};
