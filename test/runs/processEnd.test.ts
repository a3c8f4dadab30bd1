// A run whose process was killed (SIGKILL, as the out-of-memory killer sends) cannot write its own
// ending: the parent that saw it end marks status.json failed with what happened; a run that wrote
// its ending, or a status of another process, is left as it is.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { test } from 'node:test';
import { readRunStatus, recordProcessEnd, writeRunStatus, type RunStatus } from '../../src/engine/runs/runStatus';
import { scratchDir } from '../data/helpers';

test('a killed run process is recorded as failed with the signal; an ended run is not touched', async () => {
  const dir = scratchDir('process-end');
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
  const at = new Date().toISOString();
  const running: RunStatus = { state: 'running', pid: child.pid!, hostname: hostname(), startedAt: at, heartbeatAt: at, step: 7, totalSteps: 30 };
  writeRunStatus(dir, running);
  const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, signal) => r(signal)));
  child.kill('SIGKILL');
  const signal = await exited;
  assert.equal(signal, 'SIGKILL');
  assert.equal(recordProcessEnd(dir, child.pid! + 1, 'not this one'), false, 'another process id');
  assert.equal(recordProcessEnd(dir, child.pid!, 'its process was killed (SIGKILL): out of memory, or ended from outside', signal!), true);
  const s = readRunStatus(dir);
  assert.deepEqual([s.state, s.step, s.error], ['failed', 7, { message: 'its process was killed (SIGKILL): out of memory, or ended from outside', code: 'SIGKILL' }]);
  assert.ok(s.recorded?.endedAt);
  assert.equal(recordProcessEnd(dir, child.pid!, 'again'), false, 'written once');
  writeRunStatus(dir, { ...running, state: 'stopped', endedAt: at });
  assert.equal(recordProcessEnd(dir, child.pid!, 'x'), false, 'a run that wrote its ending keeps it');
  assert.equal(recordProcessEnd(scratchDir('process-end-none'), 1, 'x'), false, 'no status.json');
});
