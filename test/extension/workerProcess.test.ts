// The generation worker as the extension runs it: a child process (dist/worker.js) behind one
// request/response client. Answers stream and can be cancelled; when the process is killed (a real
// SIGKILL, as the out-of-memory killer sends) every request still waiting fails with what happened,
// instead of "… generating" forever. A stand-in script checks the same without the engine.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CancelGenerate, Generate, GenerateProgress, PROTOCOL_VERSION } from '../../src/protocol/messages';
import { describeExit, WorkerProcess } from '../../src/extension/workerProcess';
import { BUILTIN_WEIGHTS_FILE } from '../../src/engine/builtin';
import { put, scratchDir } from '../data/helpers';
import { repoRoot } from '../foundation/repoRoot';

/** The bundled worker: dist/worker.js as the extension ships it (FTLAB_WORKER_JS: a bundle elsewhere). */
const WORKER = process.env.FTLAB_WORKER_JS ?? join(repoRoot, 'dist', 'worker.js');

test('a worker killed with SIGKILL fails every waiting request with what happened (stand-in process)', async () => {
  const dir = scratchDir('worker-kill');
  const script = put(dir, 'worker.js', `process.send({ method: 'ready', params: { protocol: ${PROTOCOL_VERSION} } }); process.on('message', () => {});`);
  let exited = '';
  const w = new WorkerProcess(script, { name: 'the generation process', onExit: (what) => { exited = what; } });
  const a = w.request(Generate, { model: 'builtin', prompt: 'a' });
  const b = w.request(Generate, { model: 'builtin', prompt: 'b' });
  await new Promise((r) => setTimeout(r, 300)); // both are posted and waiting
  process.kill(w.pid!, 'SIGKILL');
  await assert.rejects(a, /^Error: the generation process killed by SIGKILL \(out of memory, or ended from outside\)$/);
  await assert.rejects(b, /killed by SIGKILL/);
  assert.equal(exited, 'killed by SIGKILL (out of memory, or ended from outside)');
  assert.equal(w.alive, false);
  await assert.rejects(w.request(Generate, { model: 'builtin', prompt: 'c' }), /killed by SIGKILL/, 'a request after the end fails at once');
  assert.deepEqual([describeExit(1, null), describeExit(null, 'SIGSEGV'), describeExit(null, 'SIGTERM')], ['exited with code 1', 'crashed (SIGSEGV) in native code', 'ended by SIGTERM']);
});

test('a worker of another protocol version is refused with what to do', async () => {
  const dir = scratchDir('worker-version');
  const script = put(dir, 'worker.js', `process.send({ method: 'ready', params: { protocol: ${PROTOCOL_VERSION + 1} } }); setInterval(() => {}, 1000);`);
  const w = new WorkerProcess(script, { name: 'the generation process' });
  await assert.rejects(w.request(Generate, { model: 'builtin', prompt: 'a' }), /reinstall the extension/);
  w.dispose();
});

test('the real worker streams an answer, samples, cancels one, and a SIGKILL fails what waits', { timeout: 120_000 }, async (t) => {
  if (!existsSync(BUILTIN_WEIGHTS_FILE)) { t.skip('no built-in weights'); return; }
  if (!existsSync(WORKER)) { t.skip(`${WORKER} is not built (npm run build)`); return; }
  // (Answers of a fine-tuned run: the end-to-end test asks one; training one here would double this test's time.)

  const progress: { id: number; text: string }[] = [];
  let w = new WorkerProcess(WORKER, { name: 'the generation process', onNotification: (m) => { if (GenerateProgress.is(m)) progress.push(m.params); } });
  try {
    let id = 0;
    const base = await w.requestWithId(Generate, { model: 'builtin', prompt: 'The capital of France is', maxNewTokens: 8 }, (i) => { id = i; });
    assert.equal(base.finish, 'done');
    assert.ok(!base.text.includes('\n'));
    const streamed = progress.filter((p) => p.id === id).map((p) => p.text);
    assert.ok(streamed.length >= 1, 'progress came while generating');
    assert.equal(streamed.at(-1), base.text, 'the last progress is the answer');

    const sampled = await w.request(Generate, { model: 'builtin', prompt: 'Q: What is 3 plus 3?\nA:', maxNewTokens: 6, decoding: { kind: 'sample', topP: 0.9, temperature: 0.7, seed: 0 } });
    assert.equal(sampled.finish, 'done');
    await assert.rejects(w.request(Generate, { model: 'builtin', run: join(scratchDir('worker-real'), 'nope'), prompt: 'x' }), /not a run folder/);

    // Cancelled after its first token: answered with what it had.
    let cancelId = 0;
    const cancelled = w.requestWithId(Generate, { model: 'builtin', prompt: 'Once upon a time there was', maxNewTokens: 60 }, (i) => { cancelId = i; });
    const firstToken = new Promise<void>((r) => { const check = setInterval(() => { if (progress.some((p) => p.id === cancelId)) { clearInterval(check); r(); } }, 5); });
    await firstToken;
    w.notify(CancelGenerate.create({ id: cancelId }));
    const c = await cancelled;
    assert.equal(c.finish, 'cancelled');
    assert.ok(progress.filter((p) => p.id === cancelId).length < 60);

    // A real crash: the process is killed while a request waits.
    const waiting = w.request(Generate, { model: 'builtin', prompt: 'Q: What is 5 plus 5?\nA:', maxNewTokens: 60 });
    process.kill(w.pid!, 'SIGKILL');
    await assert.rejects(waiting, /the generation process killed by SIGKILL/);
    // A new process answers again (what the prompt tester does after a crash).
    w = new WorkerProcess(WORKER, { name: 'the generation process' });
    assert.equal((await w.request(Generate, { model: 'builtin', prompt: 'Paris is', maxNewTokens: 3 })).finish, 'done');
  } finally {
    w.dispose();
  }
});
