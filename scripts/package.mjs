// `npm run package`: builds the linux-x64 .vsix.
//
// The bundles in dist/ keep onnxruntime-node and tokenizers external (native code), so the .vsix must
// carry those packages, but not as installed: onnxruntime-node is 283 MB for every platform and
// tokenizers 64 MB for 13. So this script stages a folder with only the files .vscodeignore
// whitelists (its '!' lines, one source of truth for what ships), trims the package.json files
// (no scripts, no dev or install-time dependencies), and runs vsce there for target linux-x64.
//
// Usage: node scripts/package.mjs [--out <file.vsix>]
import { builtinModules, createRequire } from 'node:module';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const TARGET = 'linux-x64';
/** Packages the bundles load at run time (external in scripts/build.mjs), and what they load in turn. */
const RUNTIME_PACKAGES = { 'onnxruntime-node': ['onnxruntime-common'], 'onnxruntime-common': [], tokenizers: [] };
/** Files that must be in the package, or the extension cannot start or train. */
const REQUIRED = [
  'package.json',
  'README.md',
  'LICENSE',
  'dist/extension.js',
  'dist/cli.js', // Fine-tune model runs experiments in a child process: `node dist/cli.js experiment`
  'dist/webview/dashboard.js',
  'dist/native/linux-x64/ftlab_ort.node', // the IO-binding addon: training updates parameters in place (scripts/build-native.mjs)
  'media/icon.svg',
  'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node',
  'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1',
  'node_modules/tokenizers/tokenizers.linux-x64-gnu.node',
];

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const outArg = process.argv.indexOf('--out');
const packagePath = outArg > 0 ? resolve(process.argv[outArg + 1]) : join(root, `${manifest.name}-${TARGET}-${manifest.version}.vsix`);

function fail(message) {
  console.error(`package: ${message}`);
  process.exit(1);
}

// --- 1. The whitelist: '!' lines of .vscodeignore, as regular expressions ---------------------------
const ignoreText = readFileSync(join(root, '.vscodeignore'), 'utf8');
const patterns = ignoreText.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('!')).map((l) => l.slice(1));
const globToRegExp = (glob) =>
  new RegExp(
    '^' +
      glob
        .split(/(\*\*\/|\*\*|\*)/)
        .map((part) => (part === '**/' ? '(?:.*/)?' : part === '**' ? '.*' : part === '*' ? '[^/]*' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
        .join('') +
      '$',
  );
const walk = (dir) =>
  !existsSync(dir) ? [] : statSync(dir).isFile() ? [dir] : readdirSync(dir).flatMap((f) => walk(join(dir, f)));

const files = new Set();
for (const glob of patterns) {
  const re = globToRegExp(glob);
  const base = glob.split('*')[0].replace(/[^/]*$/, ''); // the folder before the first wildcard
  for (const f of walk(join(root, base || '.'))) {
    const rel = relative(root, f).split('\\').join('/');
    if (re.test(rel)) files.add(rel);
  }
}
for (const f of REQUIRED) if (!files.has(f)) fail(`${f} is missing${f.startsWith('dist/') ? ': run npm run build' : ''}`);

// --- 2. The bundles may only load Node built-ins, vscode, and the packages staged here ---------------
const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`), 'vscode']);
for (const bundle of [...files].filter((f) => /^dist\/[^/]+\.js$/.test(f))) {
  const text = readFileSync(join(root, bundle), 'utf8');
  for (const [, name] of text.matchAll(/require\("([^"./][^"]*)"\)/g)) {
    const pkg = name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : name.split('/')[0];
    if (!builtins.has(name) && !(pkg in RUNTIME_PACKAGES))
      fail(`${bundle} loads '${name}' at run time, which the .vsix does not carry: bundle it, or add it to RUNTIME_PACKAGES and .vscodeignore`);
  }
}

// --- 3. Stage ----------------------------------------------------------------------------------------
mkdirSync(join(root, 'out'), { recursive: true });
const stage = mkdtempSync(join(root, 'out', 'vsix-stage-'));
process.on('exit', () => rmSync(stage, { recursive: true, force: true }));
for (const f of files) {
  mkdirSync(dirname(join(stage, f)), { recursive: true });
  cpSync(join(root, f), join(stage, f));
}
cpSync(join(root, '.vscodeignore'), join(stage, '.vscodeignore'));

const require = createRequire(join(root, 'package.json'));
const versionOf = (pkg) => JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')).version;
const topLevel = Object.keys(RUNTIME_PACKAGES).filter((p) => !Object.values(RUNTIME_PACKAGES).flat().includes(p));
const { scripts, devDependencies, dependencies, bin, ...rest } = manifest;
writeFileSync(
  join(stage, 'package.json'),
  JSON.stringify({ ...rest, dependencies: Object.fromEntries(topLevel.map((p) => [p, versionOf(p)])) }, null, 2),
);
for (const [pkg, deps] of Object.entries(RUNTIME_PACKAGES)) {
  // Their install scripts (onnxruntime-node's downloads CUDA files) and install-time dependencies
  // (adm-zip, global-agent) have no place in an installed extension.
  const file = join(stage, 'node_modules', pkg, 'package.json');
  const { scripts: _s, devDependencies: _d, dependencies: _deps, optionalDependencies: _o, ...pkgRest } = JSON.parse(readFileSync(file, 'utf8'));
  writeFileSync(file, JSON.stringify({ ...pkgRest, dependencies: Object.fromEntries(deps.map((d) => [d, versionOf(d)])) }, null, 2));
}

// --- 4. vsce -----------------------------------------------------------------------------------------
const vsce = require('@vscode/vsce');
const listed = await vsce.listFiles({ cwd: stage, packageManager: vsce.PackageManager.Npm });
const foreign = listed.filter((f) => /\.(node|so(\.\d+)*|dylib|dll)$/.test(f) && !/linux[-/]x64/.test(f));
if (foreign.length) fail(`native files for other platforms would ship: ${foreign.join(', ')}`);
const unstaged = [...files].filter((f) => !listed.includes(f));
if (unstaged.length) fail(`vsce would leave out staged files: ${unstaged.join(', ')}`);

mkdirSync(dirname(packagePath), { recursive: true });
// README.md's pictures are relative to the repository; there is no public repository URL to rewrite them to.
await vsce.createVSIX({ cwd: stage, packagePath, target: TARGET, allowMissingRepository: true, useYarn: false, dependencies: true, rewriteRelativeLinks: false });
const mb = (statSync(packagePath).size / 2 ** 20).toFixed(1);
const shown = packagePath.startsWith(process.cwd()) ? relative(process.cwd(), packagePath) : packagePath;
console.log(`package: ${shown}: ${mb} MB, ${listed.length} files, target ${TARGET}`);
