// The experiment's child process: its output arrives line by line (split chunks joined), and stop()
// ends the whole process group (the CLI and the variant process it started), as cancelling the
// progress notification does. A stand-in script plays the CLI.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ExperimentProcess } from '../../src/extension/experimentProcess';
import { scratchDir } from '../data/helpers';

/** Running, not a zombie (an orphan killed here may wait for a PID 1 that does not reap it). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

test('lines from stdout and stderr, and the exit code', async () => {
  const dir = scratchDir('proc');
  const script = join(dir, 'cli.js');
  writeFileSync(script, `process.stderr.write('variant 1/2: fu'); setTimeout(() => { process.stderr.write('ll\\n  step 10  loss 2.1'); console.log('table'); process.exit(3); }, 50);`);
  const lines: string[] = [];
  const exit = await new Promise<{ code: number | null; stopped: boolean }>((resolve) => {
    new ExperimentProcess(script, dir, { line: (t, s) => lines.push(`${s}: ${t}`), exit: (code, stopped) => resolve({ code, stopped }) });
  });
  assert.deepEqual(exit, { code: 3, stopped: false });
  assert.deepEqual(lines.filter((l) => l.startsWith('stderr')), ['stderr: variant 1/2: full', 'stderr:   step 10  loss 2.1']);
  assert.ok(lines.includes('stdout: table'));
});

test('stop() ends the child and the grandchild it started (the variant process)', async () => {
  const dir = scratchDir('proc');
  const script = join(dir, 'cli.js');
  const pidFile = join(dir, 'grandchild.pid');
  writeFileSync(script, `
    const { spawn } = require('node:child_process');
    const g = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'inherit' });
    require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, String(g.pid));
    console.error('started');
    setInterval(() => {}, 1000);`);
  let grandchild = 0;
  const exit = await new Promise<{ code: number | null; stopped: boolean }>((resolve) => {
    const p = new ExperimentProcess(script, dir, {
      line: (t) => {
        if (t !== 'started') return;
        grandchild = Number(readFileSync(pidFile, 'utf8'));
        assert.ok(alive(grandchild));
        p.stop();
      },
      exit: (code, stopped) => resolve({ code, stopped }),
    });
  });
  assert.deepEqual(exit, { code: null, stopped: true });
  for (let i = 0; i < 250 && alive(grandchild); i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(alive(grandchild), false, 'the variant process ended with the experiment process');
});
