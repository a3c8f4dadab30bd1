// status.json: what a reader should believe. A 'running' file is only running while its process
// lives (same host) and its heartbeat is fresh; a run without status.json (older release) gets its
// state from the checkpoint; the recorder writes heartbeats only when they are due.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { RunFolderError } from '../../src/engine/runs/runFolder';
import { RunStatus, RunStatusRecorder, STALE_HEARTBEAT_MS, readRunStatus, writeRunStatus } from '../../src/engine/runs/runStatus';
import { scratchDir } from '../data/helpers';

function status(over: Partial<RunStatus> = {}): RunStatus {
  const now = new Date().toISOString();
  return { state: 'running', pid: process.pid, hostname: hostname(), startedAt: now, heartbeatAt: now, step: 3, totalSteps: 10, ...over };
}

function runWithStatus(s: RunStatus): string {
  const dir = scratchDir('status');
  writeRunStatus(dir, s);
  return dir;
}

/** The pid of a process that existed and is gone. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await new Promise((r) => child.once('spawn', r));
  const pid = child.pid!;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  return pid;
}

test('a running status with a live process and a fresh heartbeat is running', () => {
  const s = status();
  const r = readRunStatus(runWithStatus(s));
  assert.equal(r.state, 'running');
  assert.equal(r.reason, undefined);
  assert.deepEqual(r.recorded, s);
  assert.equal(r.step, 3);
});

test('a running status whose process is gone reads as stopped, saying which process', async () => {
  const pid = await deadPid();
  const r = readRunStatus(runWithStatus(status({ pid })));
  assert.equal(r.state, 'stopped');
  assert.match(r.reason!, new RegExp(`the process ${pid} is gone: killed or crashed at step 3; resume it`));
  assert.equal(r.recorded!.state, 'running', 'the file itself is left as written');
});

test('a running status with a stale heartbeat reads as stopped, even with a live process', () => {
  const at = Date.parse('2026-01-01T00:00:00.000Z');
  const dir = runWithStatus(status({ heartbeatAt: new Date(at).toISOString() }));
  assert.equal(readRunStatus(dir, at + STALE_HEARTBEAT_MS - 1000).state, 'running');
  const r = readRunStatus(dir, at + STALE_HEARTBEAT_MS + 60_000);
  assert.equal(r.state, 'stopped');
  assert.match(r.reason!, /no heartbeat from process \d+ for 3 min/);
});

test('on another host the process cannot be checked: the heartbeat decides', async () => {
  const pid = await deadPid();
  assert.equal(readRunStatus(runWithStatus(status({ pid, hostname: 'another-machine' }))).state, 'running');
  const old = new Date(Date.now() - 10 * 60_000).toISOString();
  const r = readRunStatus(runWithStatus(status({ pid, hostname: 'another-machine', heartbeatAt: old })));
  assert.equal(r.state, 'stopped');
  assert.match(r.reason!, /on another-machine/);
});

test('finished, stopped and failed are reported as written, whatever became of the process', async () => {
  const pid = await deadPid();
  for (const state of ['finished', 'stopped', 'failed'] as const) {
    const error = state === 'failed' ? { message: 'out of memory', code: 'OutOfMemoryError' } : undefined;
    const r = readRunStatus(runWithStatus(status({ state, pid, endedAt: new Date().toISOString(), ...(error ? { error } : {}) })));
    assert.equal(r.state, state);
    assert.deepEqual(r.error, error);
  }
});

test('without status.json (an older run) the state comes from the checkpoint', () => {
  const run = (state: Record<string, unknown> | null) => {
    const dir = scratchDir('status');
    if (state) {
      mkdirSync(join(dir, 'checkpoint'));
      writeFileSync(join(dir, 'checkpoint', 'trainer_state.json'), JSON.stringify(state));
    }
    return readRunStatus(dir);
  };
  const stopped = run({ step: 5, epoch: 0, batchInEpoch: 5, loss: 1.2, seed: 42, totalSteps: 8 });
  assert.deepEqual([stopped.state, stopped.step, stopped.totalSteps], ['stopped', 5, 8]);
  assert.match(stopped.reason!, /inferred from the checkpoint/);
  assert.equal(run({ step: 8, epoch: 1, batchInEpoch: 0, loss: null, seed: 42, totalSteps: 8 }).state, 'finished');
  assert.equal(run({ step: 4, epoch: 0, batchInEpoch: 4, loss: 1, seed: 42, totalSteps: 8, stoppedEarly: true }).state, 'finished');
  assert.equal(run({ step: 2, epoch: 0.5, loss: 1 }).state, 'finished', 'no totalSteps in the checkpoint nor a config.json: the checkpoint was the end');
  const none = run(null);
  assert.deepEqual([none.state, none.step], ['stopped', 0]);
});

test('a status.json that does not check is a RunFolderError naming the field', () => {
  const dir = scratchDir('status');
  writeFileSync(join(dir, 'status.json'), JSON.stringify({ ...status(), state: 'paused' }));
  assert.throws(() => readRunStatus(dir), (e: unknown) => e instanceof RunFolderError && e.field === 'state' && /"running" \| "finished"/.test(e.message));
  writeFileSync(join(dir, 'status.json'), JSON.stringify({ ...status(), heartbeatAt: 12 }));
  assert.throws(() => readRunStatus(dir), (e: unknown) => e instanceof RunFolderError && e.field === 'heartbeatAt');
});

test('the recorder: heartbeats only when due, the ending with endedAt, failure only after a start', () => {
  let clock = Date.parse('2026-03-01T10:00:00.000Z');
  const dir = scratchDir('status');
  const read = () => JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8')) as RunStatus;
  const rec = new RunStatusRecorder(dir, () => clock);
  rec.fail(new Error('refused before starting'));
  assert.ok(!existsSync(join(dir, 'status.json')), 'a run that never started writes no status');
  rec.start(0, 100);
  assert.deepEqual([read().state, read().step, read().pid, read().hostname], ['running', 0, process.pid, hostname()]);
  clock += 4000;
  rec.heartbeat(1);
  assert.equal(read().step, 0, 'no write 4 s after the last');
  clock += 6000;
  rec.heartbeat(2);
  assert.deepEqual([read().step, read().heartbeatAt], [2, '2026-03-01T10:00:10.000Z']);
  clock += 1000;
  rec.heartbeat(3);
  const err = Object.assign(new Error('disk full'), { code: 'ENOSPC' });
  rec.fail(err);
  const failed = read();
  assert.deepEqual([failed.state, failed.step, failed.error], ['failed', 3, { message: 'disk full', code: 'ENOSPC' }]);
  assert.equal(failed.endedAt, '2026-03-01T10:00:11.000Z');
  assert.equal(failed.startedAt, '2026-03-01T10:00:00.000Z');

  const dir2 = scratchDir('status');
  const rec2 = new RunStatusRecorder(dir2, () => clock);
  rec2.start(5, 10);
  rec2.end('stopped', 7);
  const s = readRunStatus(dir2);
  assert.deepEqual([s.state, s.step, s.recorded!.endedAt], ['stopped', 7, new Date(clock).toISOString()]);
});
