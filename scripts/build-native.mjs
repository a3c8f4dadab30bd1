// Builds the IO-binding addon (native/ftlab_ort.cc) into dist/native/<platform>-<arch>/ftlab_ort.node with the system's
// C++ compiler: Node-API headers from npm (node-api-headers, node-addon-api), no node-gyp (its download
// of Node's headers cannot reach its host on every machine), ONNX Runtime loaded at run time (dlopen).
// Skips when the output is newer than its sources. Without a compiler it warns and the engine runs on
// onnxruntime-node alone; FTLAB_ADDON_REQUIRED=1 (CI) makes that an error.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const require = createRequire(join(root, 'package.json'));
const sources = ['native/ftlab_ort.cc', 'native/ort_api.h'].map((f) => join(root, f));
const out = join(root, 'dist', 'native', `${process.platform}-${process.arch}`, 'ftlab_ort.node');

export function buildNative({ force = false } = {}) {
  if (process.platform !== 'linux') return warn(`the addon is built for Linux only (this is ${process.platform})`);
  const newest = Math.max(...sources.map((f) => statSync(f).mtimeMs));
  if (!force && existsSync(out) && statSync(out).mtimeMs >= newest) return true;
  const cxx = process.env.CXX || 'g++';
  if (spawnSync(cxx, ['--version']).status !== 0) return warn(`no C++ compiler (${cxx}); install g++ (apt-get install g++)`);
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  const napi = dirname(require.resolve('node-api-headers/package.json'));
  const addonApi = dirname(require.resolve('node-addon-api/package.json'));
  execFileSync(cxx, ['-std=c++17', '-O2', '-shared', '-fPIC', '-fvisibility=hidden', '-DNAPI_CPP_EXCEPTIONS', '-DNODE_ADDON_API_DISABLE_DEPRECATED',
    '-I', join(napi, 'include'), '-I', addonApi, sources[0], '-o', tmp,
    // libdl named (glibc < 2.34 keeps dlopen there; the source binds its old symbol version). libstdc++
    // stays dynamic: GCC 12's static one needs glibc 2.36 symbols (measured with objdump -T).
    '-Wl,--no-as-needed', '-ldl'], { stdio: 'inherit' });
  renameSync(tmp, out);
  return true;
}

function warn(why) {
  if (process.env.FTLAB_ADDON_REQUIRED === '1') throw new Error(`build-native: ${why}, and FTLAB_ADDON_REQUIRED=1`);
  console.warn(`build-native: not built: ${why}; training uses onnxruntime-node's copying run()`);
  return false;
}

if (import.meta.url === `file://${process.argv[1]}`) buildNative({ force: process.argv.includes('--force') });
