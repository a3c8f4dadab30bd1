// The lines the extension reads from `ftlab` output, checked on the real CLI: "Check training device"
// finds what `--device auto` picks in `ftlab doctor`'s text (here, without a GPU, the CPU with a reason),
// and a failed command's message loses its "ftlab <command>: " prefix.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { autoDeviceLine, lastMessage } from '../../src/extension/cliOutput';
import { repoRoot } from '../foundation/repoRoot';

test('the device line of the real `ftlab doctor`', () => {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'ftlab.js'), 'doctor'], { encoding: 'utf8', env: { ...process.env, FTLAB_DEVICE: '' } });
  assert.equal(r.status, 0, r.stderr);
  const line = autoDeviceLine(r.stdout);
  assert.ok(line, `no "--device auto:" line in:\n${r.stdout}`);
  // Without a GPU (CI), auto picks the CPU and says why.
  if (/^GPUs: none found/m.test(r.stdout)) assert.match(line!, /^the CPU: .+/);
  assert.equal(autoDeviceLine('no such line'), undefined);
});

test('a failed command\'s last line, without its prefix', () => {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'ftlab.js'), 'export', '--run', join(repoRoot, 'no-such-run'), '--format', 'hf', '--out', join(repoRoot, 'out', 'x')], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  const message = lastMessage(r.stderr.split('\n'), 'export');
  assert.ok(message && !message.startsWith('ftlab export:'), r.stderr);
  assert.match(message!, /no-such-run/);
  assert.equal(lastMessage(['', '  '], 'export'), undefined);
});
