// The generation worker: a child process of the extension host (forked with an IPC channel and
// 'advanced' serialization), so that a native crash or an out-of-memory kill ends this process, not
// the host; the host's client (src/extension/workerProcess.ts) then fails what was waiting, saying
// what happened. It speaks src/protocol/messages.ts: ready -> generate (request) with
// generateProgress as tokens come, cancelGenerate to stop one. (Training runs in `ftlab experiment`
// processes, not here.)

import { Decoder, generate } from './generate/generator';
import { loadTrainedRun } from './train/runFiles';
import { loadHfModel } from './checkpoint/hfModel';
import { causalLMFromHf } from './models/hfCausalLM';
import { requireBuiltinModel } from './builtin';
import { Tokenizer, loadTokenizer } from './tokenizer';
import { CancelGenerate, Generate, GenerateProgress, PROTOCOL_VERSION, Ready, type GenerateParams } from '../protocol/messages';

const send = process.send?.bind(process);
if (!send) throw new Error('trainerWorker.ts runs as a child process with an IPC channel (child_process.fork)');
const post = (message: unknown) => send(message);

/** Models loaded for prompt testing, by run folder or model folder. */
const decoders = new Map<string, Promise<{ decoder: Decoder; tokenizer: Tokenizer }>>();

function loadForPrompts(model: string, run: string | undefined): Promise<{ decoder: Decoder; tokenizer: Tokenizer }> {
  const key = run ?? model;
  let entry = decoders.get(key);
  if (!entry) {
    entry = (async () => {
      if (run) {
        const r = await loadTrainedRun(run);
        return { decoder: new Decoder(r.lm, r.weights), tokenizer: await loadTokenizer(r.baseModelDir) };
      }
      const dir = model === 'builtin' ? requireBuiltinModel() : model;
      const hf = await loadHfModel(dir);
      return { decoder: new Decoder(causalLMFromHf(hf.config), new Map([...hf.tensors].map(([n, t]) => [n, t.data]))), tokenizer: await loadTokenizer(dir) };
    })();
    entry.catch(() => decoders.delete(key));
    decoders.set(key, entry);
  }
  return entry;
}

/** Requests being answered, by id: set when the host cancels one. */
const cancelled = new Map<number, boolean>();

class Cancelled extends Error {}

async function answer(id: number, p: GenerateParams): Promise<{ text: string; finish: 'done' | 'cancelled' }> {
  const { decoder, tokenizer } = await loadForPrompts(p.model, p.run);
  const ids = await tokenizer.encode(p.prompt, { addSpecialTokens: true });
  const generated: number[] = [];
  const firstLine = async () => (await tokenizer.decode(generated, { skipSpecialTokens: true })).split('\n')[0];
  const sampling = p.decoding?.kind === 'sample' ? { greedy: false, topP: p.decoding.topP, temperature: p.decoding.temperature, seed: p.decoding.seed } : { greedy: true };
  try {
    await generate(decoder, ids, {
      ...sampling, maxNewTokens: p.maxNewTokens ?? 24, stopTokenIds: tokenizer.eosId === undefined ? [] : [tokenizer.eosId],
      stopStrings: ['\n'], decode: (t) => tokenizer.decode(t, { skipSpecialTokens: true }),
      onToken: async (_row, token) => {
        if (cancelled.get(id)) throw new Cancelled();
        generated.push(token);
        post(GenerateProgress.create({ id, text: await firstLine() }));
      },
    });
  } catch (err) {
    if (!(err instanceof Cancelled)) throw err;
    return { text: await firstLine(), finish: 'cancelled' };
  }
  return { text: await firstLine(), finish: 'done' };
}

process.on('message', async (msg: unknown) => {
  if (CancelGenerate.is(msg)) {
    if (cancelled.has(msg.params.id)) cancelled.set(msg.params.id, true);
    return;
  }
  if (!Generate.is(msg)) return;
  cancelled.set(msg.id, false);
  try {
    post(Generate.respond(msg.id, await answer(msg.id, msg.params)));
  } catch (err) {
    post(Generate.fail(msg.id, err instanceof Error ? err.message : String(err)));
  } finally {
    cancelled.delete(msg.id);
  }
});

// The host is gone (closed, reloaded, crashed): nothing is left to answer.
process.on('disconnect', () => process.exit(0));

post(Ready.create({ protocol: PROTOCOL_VERSION }));
