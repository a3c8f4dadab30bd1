// The `ftlab` command line, run as a user runs it: node bin/ftlab.js (over dist/cli.js).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { commands } from '../../src/cli/commands/index';
import { repoRoot } from './repoRoot';

const bin = join(repoRoot, 'bin', 'ftlab.js');
const ftlab = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

function listedCommands(help: string): string[] {
  const lines = help.split('\n');
  const start = lines.indexOf('Commands:');
  assert.ok(start >= 0, `no 'Commands:' section in:\n${help}`);
  const section = lines.slice(start + 1);
  return section.slice(0, section.findIndex((l) => !l.startsWith('  '))).map((l) => l.trim().split(/\s+/)[0]!);
}

test('ftlab --help lists exactly the command table, in order', () => {
  const run = ftlab('--help');
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(listedCommands(run.stdout), commands.map((c) => c.name));
  for (const c of commands) assert.ok(run.stdout.includes(c.summary), `summary of ${c.name}`);
  assert.equal(ftlab().stdout, run.stdout, 'no arguments prints the same overview');
  assert.equal(ftlab('help').stdout, run.stdout, "'ftlab help' prints the same overview");
});

test('ftlab help <command> prints its usage, for every command', () => {
  for (const c of commands) {
    const run = ftlab('help', c.name);
    assert.equal(run.status, 0, run.stderr);
    assert.ok(run.stdout.includes(c.usage), `usage of ${c.name}`);
    assert.equal(ftlab(c.name, '--help').stdout, run.stdout);
  }
});

test('an unknown command is a clear error with exit code 2', () => {
  const run = ftlab('trian');
  assert.equal(run.status, 2);
  assert.equal(run.stdout, '');
  assert.match(run.stderr, /unknown command 'trian'/);
  assert.ok(run.stderr.includes(commands.map((c) => c.name).join(', ')), 'lists the commands');
  const help = ftlab('help', 'trian');
  assert.equal(help.status, 2);
  assert.match(help.stderr, /unknown command 'trian'/);
});

test('ftlab version prints the package and the ONNX Runtime that actually loads', () => {
  const run = ftlab('version');
  assert.equal(run.status, 0, run.stdout + run.stderr);
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  const ort = JSON.parse(readFileSync(join(repoRoot, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8')) as { version: string };
  assert.match(run.stdout, new RegExp(`^ftlab ${pkg.version.replaceAll('.', '\\.')}$`, 'm'));
  assert.match(run.stdout, new RegExp(`^onnxruntime-node ${ort.version.replaceAll('.', '\\.')}$`, 'm'));
  assert.equal(ftlab('version', 'extra').status, 2, 'bad arguments are a usage error');
});

test('bin/ftlab.js without a build says to run npm run build', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftlab-bin-'));
  try {
    mkdirSync(join(dir, 'bin'));
    copyFileSync(bin, join(dir, 'bin', 'ftlab.js'));
    const run = spawnSync(process.execPath, [join(dir, 'bin', 'ftlab.js'), '--help'], { encoding: 'utf8' });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /dist\/cli\.js is missing: run "npm run build"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
