// The training worker (a worker_thread): ONNX Runtime's run() blocks its thread for a whole step,
// so training never runs on the extension host's thread. It speaks src/protocol/messages.ts:
// ready -> startRun (request) -> runStarted, stepMetrics..., evalMetrics..., runFinished | runFailed.

import { parentPort } from 'node:worker_threads';
import { basename } from 'node:path';
import {
  EvalMetrics, Generate, PROTOCOL_VERSION, Ready, RunFailed, RunFinished, RunStarted, StartRun, StepMetrics, StopRun,
} from '../protocol/messages';
import { Decoder, generate } from './generate/generator';
import { loadTrainedRun } from './train/runFiles';
import { loadHfModel } from './checkpoint/hfModel';
import { causalLMFromHf } from './models/hfCausalLM';
import { requireBuiltinModel } from './builtin';
import { Tokenizer, TokenizerError, loadTokenizer } from './tokenizer';
import { RunConfigError, fineTuneRun, parseRunConfig } from './train/fineTuneRun';
import { DataError, DataValidationError } from './data/dataError';
import { CheckpointError } from './checkpoint/checkpointError';
import { OutOfMemoryError, RunExistsError } from './train/trainer';

const port = parentPort;
if (!port) throw new Error('trainerWorker.ts runs as a worker_thread');
const active = new Map<string, AbortController>();

/** A user's error as the protocol's words: message, and where/what to do when known. */
function failure(runId: string | undefined, err: unknown): Parameters<typeof RunFailed.create>[0] {
  if (err instanceof DataError) return { runId, message: err.problem, file: err.file, ...(err.line ? { line: err.line } : {}), fix: err.fix };
  if (err instanceof DataValidationError) {
    const first = err.errors[0];
    return { runId, message: err.message, ...(first ? { file: first.file, ...(first.line ? { line: first.line } : {}), fix: first.fix } : {}) };
  }
  const known = [RunConfigError, CheckpointError, TokenizerError, RunExistsError, OutOfMemoryError].some((E) => err instanceof E);
  const message = err instanceof Error ? err.message : String(err);
  return { runId, message: known ? message : `training failed: ${message}` };
}

/** Models loaded for prompt testing, by model folder or run folder. */
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

port.on('message', async (msg: unknown) => {
  if (Generate.is(msg)) {
    try {
      const { decoder, tokenizer } = await loadForPrompts(msg.params.model, msg.params.run);
      const ids = await tokenizer.encode(msg.params.prompt, { addSpecialTokens: true });
      const res = await generate(decoder, ids, {
        greedy: true, maxNewTokens: msg.params.maxNewTokens ?? 24, stopTokenIds: [...tokenizer.eosIds],
        stopStrings: ['\n'], decode: (t) => tokenizer.decode(t, { skipSpecialTokens: true }),
      });
      const text = (await tokenizer.decode(res.tokens[0], { skipSpecialTokens: true })).split('\n')[0];
      port.postMessage(Generate.respond(msg.id, { text }));
    } catch (err) {
      port.postMessage(Generate.fail(msg.id, failure(undefined, err).message));
    }
    return;
  }
  if (StopRun.is(msg)) {
    const ctl = active.get(msg.params.runId);
    ctl?.abort();
    port.postMessage(StopRun.respond(msg.id, { stopped: !!ctl }));
    return;
  }
  if (!StartRun.is(msg)) return;
  let cfg;
  try {
    cfg = parseRunConfig(msg.params.config);
  } catch (err) {
    port.postMessage(StartRun.fail(msg.id, err instanceof Error ? err.message : String(err)));
    return;
  }
  const runId = basename(cfg.runDir);
  const ctl = new AbortController();
  active.set(runId, ctl);
  let lastStep = 0;
  port.postMessage(StartRun.respond(msg.id, { runId }));
  try {
    const res = await fineTuneRun(cfg, {
      signal: ctl.signal,
      onStart: ({ startStep, totalSteps }) => port.postMessage(RunStarted.create({ runId, runDir: cfg.runDir, startStep, totalSteps })),
      onStep: (m) => { lastStep = m.step; port.postMessage(StepMetrics.create({ runId, step: m.step, loss: m.loss, lr: m.learningRate, gradNorm: m.gradNorm, tokensPerSec: m.tokensPerSecond })); },
      onEval: (m) => port.postMessage(EvalMetrics.create({ runId, step: m.step, split: m.split, metrics: { loss: m.loss } })),
      // Held-out accuracy before/after, as an evaluation of the task's split ('qa' or 'general').
      onAccuracy: (r) => port.postMessage(EvalMetrics.create({ runId, step: lastStep, split: r.task, metrics: { accuracyBefore: r.before, accuracyAfter: r.after, count: r.count } })),
    });
    port.postMessage(RunFinished.create({ runId, step: res.steps, reason: res.stopped ? 'stopped' : 'completed', checkpoint: res.stoppedEarly ? 'best' : 'checkpoint' }));
  } catch (err) {
    port.postMessage(RunFailed.create(failure(runId, err)));
  } finally {
    active.delete(runId);
  }
});

port.postMessage(Ready.create({ protocol: PROTOCOL_VERSION }));
