// package.json against the code: engines, the CLI entry, and an activation of the real extension
// bundle against a recording stand-in for the `vscode` module, checking that every contributed
// command and view has its handler and that every registration is handed to context.subscriptions.
import assert from 'node:assert/strict';
import Module from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from './repoRoot';

interface Manifest {
  engines: { vscode: string; node: string };
  bin: Record<string, string>;
  main: string;
  activationEvents: string[];
  devDependencies: Record<string, string>;
  contributes: {
    commands: { command: string; title: string }[];
    views: Record<string, { id: string }[]>;
    viewsContainers: { activitybar: { id: string; icon: string }[] };
    menus: Record<string, { command: string }[]>;
    viewsWelcome: { view: string; contents: string }[];
  };
}
const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as Manifest;

/** '^1.100.0' -> [1, 100, 0] */
function minVersion(range: string): number[] {
  const m = /^[\^~>=]*\s*(\d+)\.(\d+)\.(\d+)$/.exec(range.trim());
  assert.ok(m, `cannot read version range '${range}'`);
  return m.slice(1).map(Number);
}
const compare = (a: number[], b: number[]) => a.reduce((r, x, i) => r || x - b[i]!, 0);

test('engines.vscode accepts VS Code 1.100 (code-server 4.100.3), and @types/vscode is not newer', () => {
  const engine = minVersion(manifest.engines.vscode);
  assert.ok(compare(engine, [1, 100, 0]) <= 0, `engines.vscode ${manifest.engines.vscode} must be <= ^1.100.0`);
  // vsce refuses to package when the typings promise more API than engines.vscode guarantees.
  assert.ok(compare(minVersion(manifest.devDependencies['@types/vscode']!), engine) <= 0);
});

test('the ftlab bin and the extension entry point exist', () => {
  assert.equal(manifest.bin.ftlab, './bin/ftlab.js');
  assert.ok(readFileSync(join(repoRoot, 'bin', 'ftlab.js'), 'utf8').startsWith('#!/usr/bin/env node\n'));
  assert.equal(manifest.main, './dist/extension.js');
  for (const c of manifest.contributes.viewsContainers.activitybar) assert.ok(existsSync(join(repoRoot, c.icon)), c.icon);
});

test('menus and welcome views only name contributed commands', () => {
  const contributed = new Set(manifest.contributes.commands.map((c) => c.command));
  for (const items of Object.values(manifest.contributes.menus)) for (const i of items) assert.ok(contributed.has(i.command), i.command);
  for (const w of manifest.contributes.viewsWelcome)
    for (const [, id] of w.contents.matchAll(/\(command:(finetuneLab\.[\w.]+)\)/g)) assert.ok(contributed.has(id!), id);
});

// ---- activation against a recording `vscode` ---------------------------------------------------

interface Call {
  readonly path: string;
  readonly args: unknown[];
  readonly result: unknown;
}

/** Any property is another stand-in, any call or `new` returns one and is recorded. */
function recordingModule(name: string, calls: Call[]): unknown {
  const make = (path: string): unknown =>
    new Proxy(function () {}, {
      get: (_target, prop) => (prop === 'then' || typeof prop === 'symbol' ? undefined : make(`${path}.${prop}`)),
      // Assignments (item.name = ..., item.text = ...) are accepted and forgotten.
      set: () => true,
      apply: (_target, _this, args: unknown[]) => {
        const result = make(`${path}()`);
        calls.push({ path, args, result });
        return result;
      },
      construct: (_target, args: unknown[]) => {
        const result = make(`new ${path}`) as object;
        calls.push({ path: `new ${path}`, args, result });
        return result;
      },
    });
  // esbuild's __toESM copies a module's own properties onto an object that inherits from the module's
  // prototype; a prototype that answers every property makes `vscode.X` work through that copy too.
  const members = make(name) as object;
  return new Proxy({}, { get: (_target, prop) => Reflect.get(members, prop), getPrototypeOf: () => members });
}

test('activate() registers a handler for every contributed command and view, all into context.subscriptions', () => {
  const calls: Call[] = [];
  const vscode = recordingModule('vscode', calls);
  const loader = Module as unknown as { _load(request: string, parent: unknown, isMain: boolean): unknown };
  const load = loader._load;
  loader._load = (request, parent, isMain) => (request === 'vscode' ? vscode : load(request, parent, isMain));
  try {
    // Loaded here, not imported: the stand-in must be in place when the bundle requires 'vscode'.
    const extension = require('../../src/extension/extension') as typeof import('../../src/extension/extension');
    const context = { subscriptions: [] as unknown[], extensionUri: recordingModule('extensionUri', []) };
    extension.activate(context as never);

    const registered = calls.filter((c) => c.path === 'vscode.commands.registerCommand').map((c) => c.args[0]);
    assert.deepEqual(new Set(registered), new Set(manifest.contributes.commands.map((c) => c.command)));
    assert.equal(registered.length, new Set(registered).size, 'each command registered once');

    const views = Object.values(manifest.contributes.views).flat().map((v) => v.id);
    const provided = calls.filter((c) => /^vscode\.window\.(createTreeView|registerTreeDataProvider)$/.test(c.path)).map((c) => c.args[0]);
    assert.deepEqual(new Set(provided), new Set(views));

    for (const event of manifest.activationEvents.filter((e) => e.startsWith('onWebviewPanel:'))) {
      const viewType = event.slice('onWebviewPanel:'.length);
      assert.ok(calls.some((c) => c.path === 'vscode.window.registerWebviewPanelSerializer' && c.args[0] === viewType), viewType);
    }

    const disposables = calls.filter((c) => /\.(register\w*|create\w+|on[A-Z]\w*)$/.test(c.path));
    assert.ok(disposables.length >= 8, `only ${disposables.length} registrations recorded`);
    // In context.subscriptions, or held by an object that is (a class that owns its watchers and events
    // and disposes them with itself): a property of it, or an element of an array property.
    const owned = (target: unknown): boolean => context.subscriptions.some((sub) => sub === target || (typeof sub === 'object' && sub !== null
      && Object.values(sub).some((v) => v === target || (Array.isArray(v) && v.includes(target)))));
    for (const c of disposables) assert.ok(owned(c.result), `${c.path}(${String(c.args[0])}) is not in context.subscriptions`);
  } finally {
    loader._load = load;
  }
});
