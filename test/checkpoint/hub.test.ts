import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { pull } from '../../src/cli/commands/pull';
import { UsageError } from '../../src/cli/command';
import { loadHfModel } from '../../src/engine/checkpoint/hfModel';
import {
  findCachedModel, hfHubCacheDir, HubOfflineError, listCachedModels, pullModel, repoFolderName, resolveModelDir,
  type PullProgress,
} from '../../src/engine/checkpoint/hub';
import { FakeHub } from './fakeHub';
import { HF_FIXTURES } from './fixturePaths';

const COMMIT = 'a'.repeat(40);
const REPO = 'tiny-org/tiny-llama';
let tmp: string;
let hub: FakeHub;
let cacheDir: string;
let n = 0;

function fixtureFiles(name: string, files: string[]): Record<string, Buffer> {
  return Object.fromEntries(files.map((f) => [f, readFileSync(join(HF_FIXTURES, name, f))]));
}

const SHARD1 = 'model-00001-of-00002.safetensors';
const SHARD2 = 'model-00002-of-00002.safetensors';

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'ftlab-hub-'));
  hub = await new FakeHub().start();
});
after(async () => {
  await hub.stop();
  await rm(tmp, { recursive: true, force: true });
});
beforeEach(() => {
  cacheDir = join(tmp, `cache-${n++}`);
  hub.repos.clear();
  hub.requests.length = 0;
  hub.cutAfter.clear();
  hub.corrupt.clear();
  hub.forbid.clear();
  hub.ignoreRange = false;
  hub.repos.set(REPO, {
    commit: COMMIT,
    lfs: (p) => p.endsWith('.safetensors') || p.endsWith('.bin'),
    files: {
      ...fixtureFiles('llama_gqa_tiny', ['config.json', 'model.safetensors.index.json', SHARD1, SHARD2]),
      'tokenizer_config.json': Buffer.from(JSON.stringify({ eos_token: '</s>' })),
      'README.md': Buffer.from('# a model card'),
      'pytorch_model.bin': Buffer.from('pickle bytes that must not be downloaded'),
      'onnx/model.onnx': Buffer.from('not needed'),
    },
  });
});

const opts = (extra: Record<string, unknown> = {}) => ({ cacheDir, hubUrl: hub.url, ...extra });

test('hfHubCacheDir follows HF_HUB_CACHE > HUGGINGFACE_HUB_CACHE > HF_HOME > XDG_CACHE_HOME > ~/.cache', () => {
  assert.equal(hfHubCacheDir({ HF_HUB_CACHE: '/a', HUGGINGFACE_HUB_CACHE: '/b', HF_HOME: '/c' }), '/a');
  assert.equal(hfHubCacheDir({ HUGGINGFACE_HUB_CACHE: '/b', HF_HOME: '/c' }), '/b');
  assert.equal(hfHubCacheDir({ HF_HOME: '/c', XDG_CACHE_HOME: '/x' }), join('/c', 'hub'));
  assert.equal(hfHubCacheDir({ XDG_CACHE_HOME: '/x' }), join('/x', 'huggingface', 'hub'));
  assert.match(hfHubCacheDir({}), /[/\\]\.cache[/\\]huggingface[/\\]hub$/);
  assert.equal(repoFolderName('openai-community/gpt2'), 'models--openai-community--gpt2');
  assert.equal(repoFolderName('gpt2'), 'models--gpt2');
  assert.throws(() => repoFolderName('../etc'), /is not a Hugging Face model id/);
  assert.throws(() => repoFolderName('a/b/c'), /is not a Hugging Face model id/);
});

test('pull downloads only the needed files into the HF cache layout, and the result loads', async () => {
  const progress: PullProgress[] = [];
  const result = await pullModel(REPO, opts({ onProgress: (p: PullProgress) => progress.push(p) }));
  assert.equal(result.commit, COMMIT);
  assert.equal(result.fromCache, false);
  const folder = join(cacheDir, 'models--tiny-org--tiny-llama');
  assert.equal(result.snapshotDir, join(folder, 'snapshots', COMMIT));
  assert.deepEqual(result.files, ['config.json', 'model.safetensors.index.json', 'tokenizer_config.json', SHARD1, SHARD2]);
  assert.deepEqual(hub.downloads().map((d) => d.path).sort(), ['config.json', 'model.safetensors.index.json', SHARD1, SHARD2, 'tokenizer_config.json'].sort());
  const files = hub.repos.get(REPO)!.files;
  assert.equal(result.downloadedBytes, result.files.reduce((s, f) => s + files[f]!.length, 0));
  // Snapshot entries are relative links to blobs named by the LFS sha256 (or the git oid for small files).
  const shardSha = createHash('sha256').update(files[SHARD1]!).digest('hex');
  assert.equal(await readlink(join(result.snapshotDir, SHARD1)), join('..', '..', 'blobs', shardSha));
  assert.equal(await readlink(join(result.snapshotDir, 'config.json')), join('..', '..', 'blobs', FakeHub.oid(files['config.json']!, false)));
  assert.equal(await readFile(join(folder, 'refs', 'main'), 'utf8'), COMMIT);
  assert.ok(!(await readdir(join(folder, 'blobs'))).some((b) => b.endsWith('.incomplete')));
  const last = progress.at(-1)!;
  assert.deepEqual([last.file, last.fileIndex, last.fileCount, last.state, last.fileBytes, last.fileTotal], [SHARD2, 4, 5, 'done', files[SHARD2]!.length, files[SHARD2]!.length]);

  const model = await loadHfModel(result.snapshotDir);
  const original = await loadHfModel(join(HF_FIXTURES, 'llama_gqa_tiny'));
  assert.deepEqual([...model.tensors.keys()], [...original.tensors.keys()]);
  assert.deepEqual(model.tensors.get('lm_head.weight'), original.tensors.get('lm_head.weight'));

  // The cache now lists it; an id resolves to the snapshot folder.
  const cached = await listCachedModels(cacheDir);
  assert.equal(cached.length, 1);
  assert.equal(cached[0]!.repoId, REPO);
  assert.deepEqual(cached[0]!.snapshots.map((s) => [s.commit, s.refs, s.complete, s.files.length]), [[COMMIT, ['main'], true, 5]]);
  assert.equal(await findCachedModel(REPO, { cacheDir }), result.snapshotDir);
  assert.equal(await resolveModelDir(REPO, { cacheDir }), result.snapshotDir);
  assert.equal(await resolveModelDir(HF_FIXTURES, { cacheDir }), HF_FIXTURES);
  await assert.rejects(resolveModelDir('other-org/absent', { cacheDir }), /neither a folder nor a model in the cache .* run `ftlab pull other-org\/absent` first/);

  // A second pull downloads nothing.
  hub.requests.length = 0;
  const again = await pullModel(REPO, opts({ onProgress: (p: PullProgress) => progress.push(p) }));
  assert.equal(again.downloadedBytes, 0);
  assert.deepEqual(hub.downloads(), []);
  assert.equal(progress.at(-1)!.state, 'cached');
});

test('an interrupted download resumes with a Range request and ends byte-identical', async () => {
  const files = hub.repos.get(REPO)!.files;
  hub.cutAfter.set(SHARD2, 5000);
  await assert.rejects(pullModel(REPO, opts()), (e: Error) => {
    assert.match(e.message, /(lost the connection to the Hub while downloading|got 5000 of \d+ bytes).*(again|resume)/s);
    return true;
  });
  const sha2 = createHash('sha256').update(files[SHARD2]!).digest('hex');
  const partial = join(cacheDir, 'models--tiny-org--tiny-llama', 'blobs', `${sha2}.incomplete`);
  assert.equal((await stat(partial)).size, 5000);
  hub.requests.length = 0;
  const result = await pullModel(REPO, opts());
  assert.deepEqual(hub.downloads(), [{ path: SHARD2, range: 'bytes=5000-' }], 'only the rest of the cut file is fetched');
  assert.equal(result.downloadedBytes, files[SHARD2]!.length - 5000);
  assert.ok((await readFile(join(result.snapshotDir, SHARD2))).equals(files[SHARD2]!));
});

test('a server that ignores Range restarts the file; a corrupt download is caught by its sha256', async () => {
  const files = hub.repos.get(REPO)!.files;
  const sha1 = createHash('sha256').update(files[SHARD1]!).digest('hex');
  const blobs = join(cacheDir, 'models--tiny-org--tiny-llama', 'blobs');
  await mkdir(blobs, { recursive: true });
  await writeFile(join(blobs, `${sha1}.incomplete`), Buffer.from('garbage that is not the start of the file'));
  hub.ignoreRange = true;
  const result = await pullModel(REPO, opts());
  assert.ok((await readFile(join(result.snapshotDir, SHARD1))).equals(files[SHARD1]!));

  cacheDir = join(tmp, `cache-${n++}`);
  const bad = Buffer.from(files[SHARD2]!);
  bad[bad.length - 1] ^= 0xff;
  hub.corrupt.set(SHARD2, bad);
  await assert.rejects(pullModel(REPO, opts()), /model-00002-of-00002\.safetensors of tiny-org\/tiny-llama: the sha256 does not match the Hub's; the partial file was deleted/);
  assert.ok(!(await readdir(join(cacheDir, 'models--tiny-org--tiny-llama', 'blobs'))).some((b) => b.endsWith('.incomplete')));
});

test('unsupported architectures are refused before any weights are downloaded; pickle-only repos too', async () => {
  const repo = hub.repos.get(REPO)!;
  repo.files['config.json'] = Buffer.from(JSON.stringify({ model_type: 'gemma', vocab_size: 10 }));
  await assert.rejects(pullModel(REPO, opts()), /model_type "gemma" is not supported\. Supported model types: gpt2/);
  assert.deepEqual(hub.downloads().map((d) => d.path), ['config.json']);

  hub.repos.set('org/pickle', { commit: 'b'.repeat(40), files: { 'config.json': Buffer.from('{}'), 'pytorch_model.bin': Buffer.from('x') } });
  await assert.rejects(pullModel('org/pickle', opts()), /org\/pickle has no safetensors weights .* PyTorch pickle weights \(pytorch_model\.bin\)/);
  hub.repos.set('org/dataset-like', { commit: 'c'.repeat(40), files: { 'data.csv': Buffer.from('a,b') } });
  await assert.rejects(pullModel('org/dataset-like', opts()), /not a transformers model repository \(no config\.json/);
  await assert.rejects(pullModel('org/absent', opts()), /the Hub has no model "org\/absent" that this machine may read \(HTTP 404\).*HF_TOKEN/);
  hub.repos.set('org/gated', { commit: 'd'.repeat(40), files: { 'config.json': Buffer.from('{}'), 'model.safetensors': Buffer.from('x') } });
  hub.forbid.add('config.json');
  await assert.rejects(pullModel('org/gated', opts()), /downloading config\.json of org\/gated failed: HTTP 403 .*gated or private\. Accept its licence on http:\/\/127\.0\.0\.1:\d+\/org\/gated and set HF_TOKEN/);
});

/** Two models in a cache made by hand: one complete (gpt2), one missing its weights. */
async function fakeCache(dir: string): Promise<string> {
  const gpt2 = join(dir, 'models--openai-community--gpt2');
  const commit = '1'.repeat(40);
  await mkdir(join(gpt2, 'snapshots', commit), { recursive: true });
  await mkdir(join(gpt2, 'refs'), { recursive: true });
  await writeFile(join(gpt2, 'refs', 'main'), commit);
  for (const f of ['config.json', 'model.safetensors']) await writeFile(join(gpt2, 'snapshots', commit, f), readFileSync(join(HF_FIXTURES, 'gpt2_tiny', f)));
  const half = join(dir, 'models--org--half', 'snapshots', '2'.repeat(40));
  await mkdir(half, { recursive: true });
  await writeFile(join(half, 'config.json'), '{}');
  await mkdir(join(dir, 'datasets--org--data', 'snapshots', '3'.repeat(40)), { recursive: true });
  await mkdir(join(dir, '.locks'), { recursive: true });
  return dir;
}

const offlineFetch = (async () => {
  throw new TypeError('fetch failed', { cause: Object.assign(new Error('getaddrinfo ENOTFOUND huggingface.co'), { code: 'ENOTFOUND' }) });
}) as typeof fetch;

test('offline: a clear message listing the cached models, or the cached copy when it is there', async () => {
  await assert.rejects(pullModel(REPO, { cacheDir, fetch: offlineFetch }), (e: unknown) => {
    assert.ok(e instanceof HubOfflineError);
    assert.match(e.message, /cannot reach the Hugging Face Hub at https:\/\/huggingface\.co \(getaddrinfo ENOTFOUND huggingface\.co\): this machine looks offline, and tiny-org\/tiny-llama is not in the cache/);
    assert.match(e.message, /holds no models/);
    assert.deepEqual(e.cached, []);
    return true;
  });
  const dir = await fakeCache(join(tmp, 'fake-cache'));
  const cached = await listCachedModels(dir);
  assert.deepEqual(cached.map((m) => [m.repoId, m.snapshots[0]!.complete, m.snapshots[0]!.refs]), [['openai-community/gpt2', true, ['main']], ['org/half', false, []]]);
  await assert.rejects(pullModel(REPO, { cacheDir: dir, fetch: offlineFetch }), (e: unknown) => {
    assert.ok(e instanceof HubOfflineError);
    assert.match(e.message, /Models in the cache \(.*fake-cache\):\n {2}openai-community\/gpt2 {2}\(main -> 1111111111, 2 files, .*\)\n {2}org\/half .*incomplete/);
    assert.equal(e.cached.length, 2);
    return true;
  });
  const notes: string[] = [];
  const r = await pullModel('openai-community/gpt2', { cacheDir: dir, fetch: offlineFetch, onNote: (s) => notes.push(s) });
  assert.equal(r.fromCache, true);
  assert.equal(r.snapshotDir, join(dir, 'models--openai-community--gpt2', 'snapshots', '1'.repeat(40)));
  assert.match(notes[0]!, /looks offline: using the cached snapshot/);
  assert.equal((await loadHfModel(r.snapshotDir)).family, 'gpt2');
  // offline mode never touches the network.
  const noFetch = (async () => assert.fail('no request may be made offline')) as typeof fetch;
  assert.equal((await pullModel('openai-community/gpt2', { cacheDir: dir, offline: true, fetch: noFetch })).fromCache, true);
  await assert.rejects(pullModel('org/half', { cacheDir: dir, offline: true, fetch: noFetch }), /offline mode \(HF_HUB_OFFLINE or --offline\), and org\/half is not in the cache/);
});

async function runCli(argv: string[], env: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
  const saved = { log: console.log, error: console.error, write: process.stderr.write.bind(process.stderr) };
  const savedEnv = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  let out = '';
  let err = '';
  console.log = (...a: unknown[]) => void (out += a.join(' ') + '\n');
  console.error = (...a: unknown[]) => void (err += a.join(' ') + '\n');
  process.stderr.write = ((chunk: string) => ((err += chunk), true)) as typeof process.stderr.write;
  Object.assign(process.env, env);
  try {
    return { code: await pull.run(argv, { commands: [pull] }), out, err };
  } finally {
    console.log = saved.log;
    console.error = saved.error;
    process.stderr.write = saved.write;
    for (const [k, v] of Object.entries(savedEnv)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
}

test('ftlab pull: downloads (folder on stdout, progress on stderr), lists the cache, explains offline', async () => {
  const env = { HF_ENDPOINT: hub.url, HF_TOKEN_PATH: join(tmp, 'no-token'), HF_HUB_OFFLINE: '' };
  const got = await runCli([REPO, '--cache-dir', cacheDir], env);
  assert.equal(got.code, 0, got.err);
  assert.equal(got.out.trim(), join(cacheDir, 'models--tiny-org--tiny-llama', 'snapshots', COMMIT));
  assert.match(got.err, /\[5\/5\] model-00002-of-00002\.safetensors .* downloaded/);
  assert.match(got.err, /tiny-org\/tiny-llama @ aaaaaaaaaa: 5 files/);

  const listed = await runCli(['--list', '--cache-dir', cacheDir], env);
  assert.equal(listed.code, 0);
  assert.match(listed.out, /^tiny-org\/tiny-llama {2}\(main -> aaaaaaaaaa, 5 files, /);

  // Nothing listens on port 9: the connection is refused, as on a machine without network.
  const fake = await fakeCache(join(tmp, 'cli-cache'));
  const offline = await runCli(['org/other', '--cache-dir', fake], { ...env, HF_ENDPOINT: 'http://127.0.0.1:9' });
  assert.equal(offline.code, 1);
  assert.equal(offline.out, '');
  assert.match(offline.err, /ftlab pull: cannot reach the Hugging Face Hub at http:\/\/127\.0\.0\.1:9 .*looks offline, and org\/other is not in the cache\.\nModels in the cache/);
  assert.match(offline.err, /openai-community\/gpt2/);
  const envOffline = await runCli(['openai-community/gpt2', '--cache-dir', fake], { ...env, HF_HUB_OFFLINE: '1' });
  assert.equal(envOffline.code, 0);
  assert.match(envOffline.out, /models--openai-community--gpt2/);

  await assert.rejects(runCli([], env), UsageError);
  await assert.rejects(runCli(['a/b', 'c/d'], env), /unexpected argument 'c\/d'/);
  await assert.rejects(runCli(['--revision'], env), /--revision needs a value/);
  await assert.rejects(runCli(['not a repo!'], env), /is not a Hugging Face model id/);
});
