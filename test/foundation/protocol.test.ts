// The typed messages: every guard accepts what its own create() makes, also after the structured
// clone that worker_threads and webviews apply, and rejects shapes that would break the other side.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  EvalMetrics,
  Metrics,
  Ready,
  RunFailed,
  RunFinished,
  RunStarted,
  StartRun,
  StepMetrics,
  StopRun,
  type StepMetricsParams,
} from '../../src/protocol/messages';
import { PendingRequests } from '../../src/protocol/pendingRequests';

const step: StepMetricsParams = { runId: 'r1', step: 10, loss: 2.5, lr: 3e-4, gradNorm: 0.9, tokensPerSec: 12000 };

test('each notification guard accepts its own message, after a structured clone', () => {
  const messages = [
    [Ready, Ready.create({ protocol: 1 })],
    [RunStarted, RunStarted.create({ runId: 'r1', runDir: '/w/.ftlab/runs/r1', startStep: 0, totalSteps: 100 })],
    [StepMetrics, StepMetrics.create(step)],
    [EvalMetrics, EvalMetrics.create({ runId: 'r1', step: 10, split: 'validation', metrics: { loss: 2.7, exactMatch: 0.25 } })],
    [RunFinished, RunFinished.create({ runId: 'r1', step: 100, reason: 'completed', checkpoint: 'checkpoints/step-100' })],
    [RunFailed, RunFailed.create({ message: 'line is not JSON', file: 'data/train.jsonl', line: 17, fix: 'fix or remove line 17' })],
    [Metrics, Metrics.create({ runId: 'r1', reset: true, steps: [step], evals: [] })],
  ] as const;
  for (const [type, message] of messages) {
    assert.ok(type.is(message), type.method);
    assert.ok(type.is(structuredClone(message)), `${type.method} after structuredClone`);
    // and no other guard claims it
    for (const [other] of messages) if (other !== type) assert.ok(!other.is(message), `${other.method} claims ${type.method}`);
  }
});

test('a diverging loss (NaN, Infinity) is still a valid stepMetrics', () => {
  assert.ok(StepMetrics.is(structuredClone(StepMetrics.create({ ...step, loss: NaN }))));
  assert.ok(StepMetrics.is(StepMetrics.create({ ...step, loss: Infinity, gradNorm: undefined })));
});

test('guards reject missing fields, wrong types and impossible values', () => {
  const bad: unknown[] = [
    null,
    'stepMetrics',
    { method: 'stepMetrics' },
    { method: 'stepMetrics', params: { ...step, loss: '2.5' } },
    { method: 'stepMetrics', params: { ...step, step: -1 } },
    { method: 'stepMetrics', params: { ...step, step: 1.5 } },
    { method: 'stepMetrics', params: { ...step, gradNorm: 'n/a' } },
    { method: 'stepMetrics', params: (({ tokensPerSec: _, ...rest }) => rest)(step) },
    { method: 'stepMetrics', id: 3, params: step }, // a request is not a notification
  ];
  for (const message of bad) assert.ok(!StepMetrics.is(message), JSON.stringify(message));
  assert.ok(!EvalMetrics.is({ method: 'evalMetrics', params: { runId: 'r', step: 1, split: 'v', metrics: { loss: 'high' } } }));
  assert.ok(!RunFinished.is({ method: 'runFinished', params: { runId: 'r', step: 1, reason: 'crashed' } }));
  assert.ok(!RunFailed.is({ method: 'runFailed', params: { message: 'x', line: 0 } }));
  assert.ok(!Metrics.is({ method: 'metrics', params: { runId: 'r', reset: false, steps: [{ step: 1 }], evals: [] } }));
  assert.ok(!Ready.is({ method: 'ready', params: {} }));
});

test('startRun carries a JSON config only', () => {
  assert.ok(StartRun.is(StartRun.create(1, { config: { model: 'gpt2', lr: 3e-4, layers: [1, 2], lora: null } })));
  assert.ok(!StartRun.is({ id: 1, method: 'startRun', params: { config: { lr: NaN } } }));
  assert.ok(!StartRun.is({ id: 1, method: 'startRun', params: { config: [1, 2] } }));
  assert.ok(!StartRun.is({ method: 'startRun', params: { config: {} } }), 'a request needs an id');
  assert.ok(!StartRun.is({ id: 0, method: 'startRun', params: { config: {} } }), 'ids start at 1');
});

test('responses: a result of the right shape, or an error; never a request', () => {
  assert.ok(StopRun.isResponse(StopRun.respond(4, { stopped: true })));
  assert.ok(StopRun.isResponse(StopRun.fail(4, 'no such run')));
  assert.ok(!StopRun.isResponse({ id: 4, method: 'stopRun', result: { stopped: 'yes' } }));
  assert.ok(!StopRun.isResponse(StopRun.create(4, { runId: 'r1' })));
  assert.ok(!StartRun.isResponse(StopRun.respond(4, { stopped: true })));
});

test('PendingRequests correlates responses by id, in any order', async () => {
  const posted: unknown[] = [];
  const requests = new PendingRequests((m) => posted.push(m));
  const started = requests.send(StartRun, { config: { model: 'gpt2' } });
  const stopped = requests.send(StopRun, { runId: 'r9' });
  const failing = requests.send(StopRun, { runId: 'nope' });
  assert.equal(requests.size, 3);
  const [a, b, c] = posted.map((m) => (m as { id: number }).id);
  assert.deepEqual(new Set([a, b, c]).size, 3, 'distinct ids');
  assert.ok(StartRun.is(posted[0]) && StopRun.is(posted[1]));

  assert.equal(requests.settle(StopRun.respond(b!, { stopped: true })), true);
  assert.equal(requests.settle(StopRun.fail(c!, 'no run nope')), true);
  assert.equal(requests.settle(StepMetrics.create(step)), false, 'notifications are not responses');
  assert.equal(requests.settle(StopRun.respond(999, { stopped: true })), false, 'unknown id');
  assert.equal(requests.settle(StopRun.respond(a!, { stopped: true })), false, 'a stopRun response cannot settle startRun');
  assert.equal(requests.settle(StartRun.respond(a!, { runId: 'r9' })), true);

  assert.deepEqual(await started, { runId: 'r9' });
  assert.deepEqual(await stopped, { stopped: true });
  await assert.rejects(failing, /no run nope/);
  assert.equal(requests.size, 0);
});

test('PendingRequests.rejectAll fails what is still waiting', async () => {
  const requests = new PendingRequests(() => {});
  const waiting = requests.send(StopRun, { runId: 'r1' });
  requests.rejectAll('the training worker exited (code 1)');
  await assert.rejects(waiting, /worker exited/);
  assert.equal(requests.size, 0);
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
