// `ftlab generate --model DIR --prompt TEXT`: continues a prompt with a Hugging Face model folder,
// streaming the text to stdout as tokens are chosen; a summary (tokens, speed) goes to stderr.
import { UsageError, type CliCommand } from '../command';
import { loadHfModel, causalLMFromHf, Decoder, generate as generateTokens, loadTokenizer, type DeviceRequest } from '../../engine';
import { checkDevice, deviceRequest } from '../deviceFlags';

const usage = `Usage: ftlab generate --model <dir> --prompt <text> [options]

Continues the prompt with the model in <dir> (a Hugging Face folder with config.json, safetensors
weights and tokenizer.json, e.g. one printed by \`ftlab pull\` or exported by a run) and streams the
text to stdout. Generation ends at the model's end-of-text token, a --stop string or the token limit.

  --model <dir>               model folder
  --prompt <text>             text to continue ('-' reads it from stdin)
  --max-new-tokens <n>        most tokens to generate (default 20)
  --temperature <t>           sampling temperature (default 0.7; 0 = greedy)
  --top-p <p>                 nucleus sampling: smallest set of tokens with probability >= p (default 0.9)
  --top-k <k>                 sample among the k most likely tokens only (default: off)
  --repetition-penalty <r>    > 1 discourages repeating tokens (default 1: off)
  --greedy                    always take the most likely token (deterministic)
  --seed <s>                  seed of the sampling (default 0): same seed, same text
  --stop <text>               also stop when the generated text contains <text> (repeatable)
  --threads <n>               CPU threads (default: ONNX Runtime's choice)
  --device <auto|cpu|cuda>    auto (default): CUDA when the provider, the CUDA libraries and a GPU are
                              there, else the CPU; cuda: stop with what is missing (ftlab doctor)`;

export interface GenerateArgs {
  model: string;
  prompt: string;
  maxNewTokens: number;
  temperature: number;
  topP: number;
  topK?: number;
  repetitionPenalty: number;
  greedy: boolean;
  seed: number;
  stop: string[];
  threads?: number;
  device: DeviceRequest;
}

export function parseGenerateArgs(argv: readonly string[]): GenerateArgs {
  const a: Partial<GenerateArgs> & { stop: string[] } = { stop: [], greedy: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || (v.startsWith('--') && v.length > 2)) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    const num = (min: number, integer: boolean) => {
      const v = value();
      const n = Number(v);
      if (v.trim() === '' || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
        throw new UsageError(`${arg} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got '${v}'`);
      }
      return n;
    };
    switch (arg) {
      case '--model': a.model = value(); break;
      case '--prompt': a.prompt = value(); break;
      case '--max-new-tokens': a.maxNewTokens = num(1, true); break;
      case '--temperature': a.temperature = num(0, false); break;
      case '--top-p': a.topP = num(0, false); if (a.topP > 1) throw new UsageError(`--top-p must be at most 1, got ${a.topP}`); break;
      case '--top-k': a.topK = num(0, true); break;
      case '--repetition-penalty': a.repetitionPenalty = num(0, false); if (a.repetitionPenalty <= 0) throw new UsageError('--repetition-penalty must be > 0'); break;
      case '--greedy': a.greedy = true; break;
      case '--seed': a.seed = num(0, true); break;
      case '--stop': a.stop.push(value()); break;
      case '--threads': a.threads = num(1, true); break;
      case '--device': a.device = deviceRequest(value()); break;
      default: throw new UsageError(arg.startsWith('-') ? `unknown option '${arg}'` : `unexpected argument '${arg}'`);
    }
  }
  if (a.model === undefined) throw new UsageError('--model <dir> is required');
  if (a.prompt === undefined) throw new UsageError('--prompt <text> is required');
  return {
    model: a.model, prompt: a.prompt, maxNewTokens: a.maxNewTokens ?? 20, temperature: a.temperature ?? 0.7, topP: a.topP ?? 0.9,
    topK: a.topK, repetitionPenalty: a.repetitionPenalty ?? 1, greedy: a.greedy ?? false, seed: a.seed ?? 0, stop: a.stop, threads: a.threads, device: a.device ?? 'auto',
  };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export const generate: CliCommand = {
  name: 'generate',
  summary: 'Continue a prompt with a model folder, streaming the text',
  usage,
  async run(argv) {
    const a = parseGenerateArgs(argv);
    const prompt = a.prompt === '-' ? await readStdin() : a.prompt;
    const [hf, tok] = await Promise.all([loadHfModel(a.model, { onWarning: (w) => console.error(`warning: ${w}`) }), loadTokenizer(a.model)]);
    const lm = causalLMFromHf(hf.config);
    const ids = await tok.encode(prompt);
    if (ids.length === 0) throw new Error('the prompt is empty after tokenization: give some text');
    const stopTokenIds = [...tok.eosIds]; // EOS as the tokenizer loader resolves it, with generation_config.json's and config.json's eos ids
    checkDevice(a.device, (s) => console.error(s));
    const decoder = new Decoder(lm, new Map([...hf.tensors].map(([n, t]) => [n, t.data])), { threads: a.threads, device: a.device });
    // Stream: decode the generated tokens and print what is new; hold text ending in an incomplete character.
    // They are decoded after the prompt's last token, whose text is then cut off: a SentencePiece word's
    // leading space survives only when the word is not at the start of the decoded text.
    const out: number[] = [];
    const context = ids.slice(-1);
    const contextText = await tok.decode(context, { skipSpecialTokens: true });
    const continuation = async (tokens: number[]) => {
      const text = await tok.decode([...context, ...tokens], { skipSpecialTokens: true });
      return text.startsWith(contextText) ? text.slice(contextText.length) : tok.decode(tokens, { skipSpecialTokens: true });
    };
    let printed = '';
    const flush = async (final: boolean) => {
      const text = await continuation(out);
      if (!final && text.endsWith('\uFFFD')) return;
      if (text.startsWith(printed)) process.stdout.write(text.slice(printed.length));
      printed = text;
    };
    const started = performance.now();
    let result;
    try {
      result = await generateTokens(decoder, ids, {
        maxNewTokens: a.maxNewTokens, temperature: a.temperature, topP: a.topP, topK: a.topK, repetitionPenalty: a.repetitionPenalty,
        greedy: a.greedy, seed: a.seed, stopTokenIds, stopStrings: a.stop, decode: continuation,
        onToken: async (_row, t) => { out.push(t); await flush(false); },
      });
      await flush(true);
    } finally {
      await decoder.release();
    }
    process.stdout.write('\n');
    const secs = (performance.now() - started) / 1000;
    const n = result.tokens[0].length;
    const why = { stop_token: 'end-of-text token', stop_string: 'stop string', length: `limit of ${a.maxNewTokens} tokens` }[result.finishReasons[0]];
    console.error(`${n} tokens in ${secs.toFixed(2)} s (${(n / secs).toFixed(1)} tokens/s, prompt ${ids.length} tokens); stopped at the ${why}`);
    return 0;
  },
};
