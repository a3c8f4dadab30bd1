// The boundary lint (scripts/lint.mjs) run on a throw-away tree: it must catch what it exists for.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from './repoRoot';

function lintTree(files: Record<string, string>): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ftlab-lint-'));
  try {
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    const run = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'lint.mjs'), dir], { encoding: 'utf8' });
    return { status: run.status, output: run.stdout + run.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a clean tree passes', () => {
  const { status, output } = lintTree({
    'src/engine/model.ts': "import * as ort from 'onnxruntime-node';\nexport const x = ort;\n",
    'src/extension/extension.ts': "import * as vscode from 'vscode';\n", // the extension may
    'webview/toolkit.ts': "import { provideVSCodeDesignSystem } from '@vscode/webview-ui-toolkit';\n",
  });
  assert.equal(status, 0, output);
  assert.match(output, /boundaries ok/);
});

test('a vscode import in the engine fails, naming file and line', () => {
  const { status, output } = lintTree({ 'src/engine/trainer/loop.ts': "// training loop\nimport * as vscode from 'vscode';\n" });
  assert.equal(status, 1);
  assert.match(output, /src\/engine\/trainer\/loop\.ts:2: import \* as vscode from 'vscode'/);
  assert.match(output, /the engine is plain Node/);
});

test('require("vscode") and DOM access in the engine fail too', () => {
  const { status, output } = lintTree({ 'src/engine/a.ts': "const v = require('vscode');\ndocument.title = 'x';\n" });
  assert.equal(status, 1);
  assert.match(output, /2 boundary violation/);
});

test('the CLI, the protocol and the webview keep their boundaries', () => {
  const { status, output } = lintTree({
    'src/cli/main.ts': "import { window } from 'vscode';\n",
    'src/protocol/messages.ts': "import { Tensor } from '../engine/tensor';\n",
    'webview/dashboard.ts': "import { vsCodeButton } from '@vscode/webview-ui-toolkit';\n",
  });
  assert.equal(status, 1);
  assert.match(output, /src\/cli\/main\.ts:1/);
  assert.match(output, /src\/protocol\/messages\.ts:1/);
  assert.match(output, /webview\/dashboard\.ts:1: [^\n]*\n *-> not allowed: only webview\/toolkit\.ts wraps/);
});

test('the CLI and the extension reach the engine only through src/engine/index.ts', () => {
  const ok = lintTree({ 'src/cli/commands/x.ts': "import { train } from '../../engine';\n", 'src/extension/y.ts': "import { train } from '../engine';\n" });
  assert.equal(ok.status, 0, ok.output);
  const deep = lintTree({ 'src/cli/commands/x.ts': "import { train } from '../../engine/train/trainer';\n", 'src/extension/y.ts': "const t = require('../engine/train/trainer');\n" });
  assert.equal(deep.status, 1);
  assert.match(deep.output, /src\/cli\/commands\/x\.ts:1/);
  assert.match(deep.output, /src\/extension\/y\.ts:1/);
});
