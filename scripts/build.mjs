// Builds every bundle with esbuild: extension host, training worker, CLI, webview, benchmarks, tests.
// onnxruntime-node (native) and tokenizers (native) stay external: they ship in node_modules.
import * as esbuild from 'esbuild';
import { readdirSync, statSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildNative } from './build-native.mjs';

const watch = process.argv.includes('--watch');
const native = ['onnxruntime-node', 'tokenizers', 'vscode'];
const node = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, external: native, logLevel: 'warning' };

function testEntries(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return testEntries(p);
    return p.endsWith('.test.ts') ? [p] : [];
  });
}

const builds = [
  { ...node, entryPoints: { extension: 'src/extension/extension.ts' }, outdir: 'dist' },
  { ...node, entryPoints: { worker: 'src/engine/trainerWorker.ts' }, outdir: 'dist' },
  { ...node, entryPoints: { cli: 'src/cli/main.ts' }, outdir: 'dist' },
  { ...node, entryPoints: { bench: 'bench/main.ts' }, outdir: 'dist' },
  { ...node, entryPoints: { 'bench-prepare': 'bench/prepare.ts' }, outdir: 'dist' },
  { ...node, entryPoints: { 'bench-decode': 'bench/decode.ts' }, outdir: 'dist' },
  { ...node, entryPoints: { 'bench-memory': 'bench/memory.ts' }, outdir: 'dist' },
  { ...node, entryPoints: { 'bench-models': 'bench/models.ts' }, outdir: 'dist' },
  { bundle: true, platform: 'browser', target: 'es2022', format: 'iife', sourcemap: true, logLevel: 'warning',
    entryPoints: { dashboard: 'webview/dashboard.ts' }, outdir: 'dist/webview' },
];
rmSync('out/test', { recursive: true, force: true });
const tests = testEntries('test');
if (tests.length) builds.push({ ...node, external: [...native, 'node:test'], entryPoints: tests, outdir: 'out/test', outbase: 'test', outExtension: { '.js': '.cjs' } });

buildNative();
const present = builds.filter((b) => Object.values(b.entryPoints).every((e) => existsSync(e)));
if (watch) {
  for (const b of present) (await esbuild.context(b)).watch();
} else {
  await Promise.all(present.map((b) => esbuild.build(b)));
}
