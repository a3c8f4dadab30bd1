// `npm run package`'s script: the .vsix carries the bundles, the media and the native runtime for
// linux-x64 only, with trimmed manifests.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from './repoRoot';
import { zipEntries, zipFile, zipText } from './zipEntries';

test('the linux-x64 .vsix holds what the extension loads, and no other platform', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftlab-vsix-'));
  try {
    const vsix = join(dir, 'finetune-lab.vsix');
    const run = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'package.mjs'), '--out', vsix], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /package: .*\d+\.\d MB, \d+ files, target linux-x64/);

    const zip = readFileSync(vsix);
    const entries = zipEntries(zip);
    const names = new Set(entries.map((e) => e.name));
    for (const f of [
      'extension.vsixmanifest',
      'extension/package.json',
      'extension/readme.md',
      'extension/LICENSE.txt',
      'extension/dist/extension.js',
      'extension/dist/webview/dashboard.js',
      'extension/media/icon.svg',
      'extension/media/dashboard.css',
      'extension/node_modules/onnxruntime-node/dist/index.js',
      'extension/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node',
      'extension/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1',
      'extension/node_modules/onnxruntime-common/dist/cjs/index.js',
      'extension/node_modules/onnxruntime-common/dist/cjs/package.json',
      'extension/node_modules/tokenizers/index.js',
      'extension/node_modules/tokenizers/tokenizers.linux-x64-gnu.node',
      'extension/dist/native/linux-x64/ftlab_ort.node',
    ])
      assert.ok(names.has(f) || names.has(f.replace('readme.md', 'README.md')), `missing ${f}`);

    const native = entries.filter((e) => /\.(node|so(\.\d+)*|dylib|dll)$/.test(e.name)).map((e) => e.name);
    assert.equal(native.length, 4, native.join('\n'));
    assert.ok(native.every((n) => /linux[-/]x64/.test(n)), native.join('\n'));
    assert.ok(![...names].some((n) => /\.map$|\/src\/|\/test\/|bench\.js|\.ts$/.test(n)), 'no sources, maps, tests or bench');
    assert.ok(zip.length < 40 * 2 ** 20, `${(zip.length / 2 ** 20).toFixed(1)} MB`);
    assert.match(zipText(zip, 'extension.vsixmanifest'), /TargetPlatform="linux-x64"/);

    // The packaged package.json: no scripts (no install step to run), only the native runtime as dependencies.
    const packaged = JSON.parse(zipText(zip, 'extension/package.json')) as Record<string, unknown>;
    assert.equal(packaged.scripts, undefined);
    assert.equal(packaged.devDependencies, undefined);
    assert.deepEqual(Object.keys(packaged.dependencies as object).sort(), ['onnxruntime-node', 'tokenizers']);
    const ortManifest = JSON.parse(zipText(zip, 'extension/node_modules/onnxruntime-node/package.json')) as Record<string, unknown>;
    assert.equal(ortManifest.scripts, undefined, 'no postinstall that downloads CUDA files');

    // The trimmed native packages load from the unpacked extension: ONNX Runtime runs a model, the
    // tokenizers binding loads.
    const unpacked = join(dir, 'unpacked');
    for (const entry of entries.filter((e) => e.name.startsWith('extension/node_modules/') || e.name.startsWith('extension/dist/native/'))) {
      const path = join(unpacked, entry.name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, zipFile(zip, entry));
    }
    const probe = spawnSync(process.execPath, ['-e', NATIVE_PROBE], { cwd: join(unpacked, 'extension'), encoding: 'utf8' });
    assert.equal(probe.status, 0, probe.stdout + probe.stderr);
    assert.match(probe.stdout, /^ort 1\.\d+\.\d+ identity \[1,2,3\] tokenizers function$/m);
    assert.match(probe.stdout, /^addon 1\.\d+\.\d+ identity \[1,2,3\]$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// An ONNX model with one Identity node (x -> y, float32 [3]), encoded by hand: IR 10, opset 21.
const NATIVE_PROBE = `
const ort = require('./node_modules/onnxruntime-node');
const { Tokenizer } = require('./node_modules/tokenizers');
const str = (field, s) => [field << 3 | 2, s.length, ...Buffer.from(s)];
const msg = (field, bytes) => [field << 3 | 2, bytes.length, ...bytes];
const valueInfo = (name) => [...str(1, name), ...msg(2, msg(1, [8, 1, ...msg(2, msg(1, [8, 3]))]))]; // float [3]
const graph = [...msg(1, [...str(1, 'x'), ...str(2, 'y'), ...str(4, 'Identity')]), ...str(2, 'g'), ...msg(11, valueInfo('x')), ...msg(12, valueInfo('y'))];
const model = Uint8Array.from([8, 10, ...msg(7, graph), ...msg(8, [...str(1, ''), 16, 21])]);
ort.InferenceSession.create(model).then(async (session) => {
  const { y } = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3]), [3]) });
  console.log('ort', ort.env.versions.node, 'identity', JSON.stringify(Array.from(y.data)), 'tokenizers', typeof Tokenizer.fromFile);
  // The IO-binding addon, on the library the package carries: the same model, output bound to an array.
  const addon = require('./dist/native/linux-x64/ftlab_ort.node');
  const version = addon.init(require('node:path').resolve('node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1'));
  const s = new addon.Session(model, {});
  const out = new Float32Array(3);
  s.bindInput('x', Float32Array.from([1, 2, 3]), [3], 'float32');
  s.bindOutput('y', out, [3], 'float32');
  await s.run();
  console.log('addon', version, 'identity', JSON.stringify(Array.from(out)));
  s.release();
}).catch((e) => { console.error(e); process.exit(1); });
`;
