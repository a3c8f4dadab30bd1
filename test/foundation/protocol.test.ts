// The typed messages: every guard accepts what its own create() makes, also after the structured
// clone that webviews and the worker's 'advanced' IPC apply, and rejects shapes that would break the other side.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CancelGenerate,
  Generate,
  GenerateProgress,
  Metrics,
  Ready,
  type StepMetricsParams,
} from '../../src/protocol/messages';
import { PendingRequests } from '../../src/protocol/pendingRequests';

const step: StepMetricsParams = { runId: 'r1', step: 10, loss: 2.5, lr: 3e-4, gradNorm: 0.9, tokensPerSec: 12000 };

test('each notification guard accepts its own message, after a structured clone', () => {
  const messages = [
    [Ready, Ready.create({ protocol: 1 })],
    [GenerateProgress, GenerateProgress.create({ id: 3, text: 'Par' })],
    [CancelGenerate, CancelGenerate.create({ id: 3 })],
    [Metrics, Metrics.create({ runId: 'r1', reset: true, steps: [step], evals: [{ runId: 'r1', step: 10, split: 'validation', metrics: { loss: 2.7 } }] })],
  ] as const;
  for (const [type, message] of messages) {
    assert.ok(type.is(message), type.method);
    assert.ok(type.is(structuredClone(message)), `${type.method} after structuredClone`);
    // and no other guard claims it
    for (const [other] of messages) if (other !== type) assert.ok(!other.is(message), `${other.method} claims ${type.method}`);
  }
});

test('a diverging loss (NaN, Infinity) is still a valid step in a metrics batch', () => {
  assert.ok(Metrics.is(structuredClone(Metrics.create({ runId: 'r', reset: false, steps: [{ ...step, loss: NaN }], evals: [] }))));
  assert.ok(Metrics.is(Metrics.create({ runId: 'r', reset: false, steps: [{ ...step, loss: Infinity, gradNorm: undefined }], evals: [] })));
});

test('guards reject missing fields, wrong types and impossible values', () => {
  const bad: unknown[] = [
    null,
    'metrics',
    { method: 'metrics' },
    { method: 'metrics', params: { runId: 'r', reset: false, steps: [{ ...step, loss: '2.5' }], evals: [] } },
    { method: 'metrics', params: { runId: 'r', reset: false, steps: [{ ...step, step: -1 }], evals: [] } },
    { method: 'metrics', params: { runId: 'r', reset: false, steps: [{ ...step, step: 1.5 }], evals: [] } },
    { method: 'metrics', params: { runId: 'r', reset: false, steps: [(({ tokensPerSec: _, ...r }) => r)(step)], evals: [] } },
    { method: 'metrics', params: { runId: 'r', reset: false, steps: [], evals: [{ runId: 'r', step: 1, split: 'v', metrics: { loss: 'high' } }] } },
    { method: 'metrics', id: 3, params: { runId: 'r', reset: false, steps: [], evals: [] } }, // a request is not a notification
  ];
  for (const message of bad) assert.ok(!Metrics.is(message), JSON.stringify(message));
  assert.ok(!GenerateProgress.is({ method: 'generateProgress', params: { id: 0, text: 'x' } }), 'ids start at 1');
  assert.ok(!Ready.is({ method: 'ready', params: {} }));
});

test('generate carries a prompt and optional decoding; its result says how it finished', () => {
  assert.ok(Generate.is(Generate.create(1, { model: 'builtin', prompt: 'Q: x\nA:' })));
  assert.ok(Generate.is(Generate.create(2, { model: 'builtin', run: '/r', prompt: 'p', maxNewTokens: 20, decoding: { kind: 'sample', topP: 0.9, temperature: 0.7, seed: 0 } })));
  assert.ok(!Generate.is({ id: 1, method: 'generate', params: { model: 'builtin', prompt: 'p', decoding: { kind: 'beam' } } }));
  assert.ok(!Generate.is({ id: 1, method: 'generate', params: { model: 'builtin', prompt: 'p', maxNewTokens: 0 } }));
  assert.ok(!Generate.is({ method: 'generate', params: { model: 'builtin', prompt: 'p' } }), 'a request needs an id');
  assert.ok(Generate.isResponse(Generate.respond(4, { text: 'Paris', finish: 'done' })));
  assert.ok(Generate.isResponse(Generate.fail(4, 'no such run')));
  assert.ok(!Generate.isResponse({ id: 4, method: 'generate', result: { text: 'Paris', finish: 'maybe' } }));
  assert.ok(!Generate.isResponse(Generate.create(4, { model: 'builtin', prompt: 'p' })), 'a request is not a response');
});

test('PendingRequests correlates responses by id, in any order', async () => {
  const posted: unknown[] = [];
  const requests = new PendingRequests((m) => posted.push(m));
  let firstId = 0;
  const first = requests.send(Generate, { model: 'builtin', prompt: 'a' }, (id) => { firstId = id; });
  const second = requests.send(Generate, { model: 'builtin', prompt: 'b' });
  const failing = requests.send(Generate, { model: 'builtin', prompt: 'c' });
  assert.equal(requests.size, 3);
  const [a, b, c] = posted.map((m) => (m as { id: number }).id);
  assert.equal(a, firstId, 'onId learns the id posted');
  assert.deepEqual(new Set([a, b, c]).size, 3, 'distinct ids');

  assert.equal(requests.settle(Generate.respond(b!, { text: 'B', finish: 'done' })), true);
  assert.equal(requests.settle(Generate.fail(c!, 'no run nope')), true);
  assert.equal(requests.settle(GenerateProgress.create({ id: a!, text: 'A' })), false, 'notifications are not responses');
  assert.equal(requests.settle(Generate.respond(999, { text: '', finish: 'done' })), false, 'unknown id');
  assert.equal(requests.settle(Generate.respond(a!, { text: 'A', finish: 'cancelled' })), true);

  assert.deepEqual(await first, { text: 'A', finish: 'cancelled' });
  assert.deepEqual(await second, { text: 'B', finish: 'done' });
  await assert.rejects(failing, /no run nope/);
  assert.equal(requests.size, 0);
});

test('PendingRequests.rejectAll fails what is still waiting; a closed channel fails the request at once', async () => {
  const requests = new PendingRequests(() => {});
  const waiting = requests.send(Generate, { model: 'builtin', prompt: 'a' });
  requests.rejectAll('the generation process exited with code 1');
  await assert.rejects(waiting, /generation process exited/);
  assert.equal(requests.size, 0);
  const closed = new PendingRequests(() => { throw new Error('channel closed'); });
  await assert.rejects(closed.send(Generate, { model: 'builtin', prompt: 'a' }), /channel closed/);
  assert.equal(closed.size, 0);
});

test('showReport and the dashboard state: accepted as made, after a clone; a bad source or variant is refused', async () => {
  const { ShowReport, isDashboardState } = await import('../../src/protocol/messages');
  const share = { correct: 3, total: 10, fraction: 0.3, low: 0.1, high: 0.6 };
  const variant = {
    name: 'full', strategy: 'full', status: 'finished' as const, lossCurve: [{ step: 1, loss: 2.5 }],
    general: { before: share, after: share }, task: { before: null, after: null, missing: 'no held-out data' },
    steps: 3, seconds: 10, tokensPerSecond: 100, peakMemoryBytes: null, trainableParameters: 5, forgetting: 0,
  };
  const message = ShowReport.create({ source: { kind: 'experiment', dir: '/w/.ftlab/experiments/e1' }, title: 't', subtitle: 's', variants: [variant], live: false });
  assert.ok(ShowReport.is(structuredClone(message)));
  assert.ok(!Metrics.is(message) && !ShowReport.is(Metrics.create({ runId: 'r1', reset: true, steps: [], evals: [] })));
  const bad: unknown[] = [
    { ...message, params: { ...message.params, source: { kind: 'experiment' } } },
    { ...message, params: { ...message.params, source: { kind: 'runs', runDirs: '/a' } } },
    { ...message, params: { ...message.params, variants: [{ ...variant, status: 'done' }] } },
    { ...message, params: { ...message.params, variants: [{ ...variant, general: { before: { correct: 1 }, after: null } }] } },
    { ...message, params: { ...message.params, variants: [{ ...variant, lossCurve: [{ step: -1, loss: 1 }] }] } },
  ];
  for (const m of bad) assert.ok(!ShowReport.is(m), JSON.stringify(m).slice(0, 200));
  assert.ok(isDashboardState({ source: { kind: 'runs', runDirs: ['/a', '/b'] } }));
  for (const s of [undefined, null, {}, { source: { kind: 'file', dir: '/a' } }, { source: { kind: 'experiment', dir: 3 } }]) assert.ok(!isDashboardState(s), JSON.stringify(s));
});
