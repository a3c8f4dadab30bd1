// Models from the Hugging Face Hub, kept in the standard HF cache so Python tools share them:
//   <cache>/models--<org>--<name>/blobs/<etag>                 file contents (etag = LFS sha256 or git oid)
//   <cache>/models--<org>--<name>/snapshots/<commit>/<path>    -> ../../blobs/<etag> (symlink; a copy where links fail)
//   <cache>/models--<org>--<name>/refs/<revision>              commit hash the revision pointed to
// <cache> = HF_HUB_CACHE, else HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub,
// else ~/.cache/huggingface/hub. Only the files training needs are downloaded; interrupted downloads
// resume from <blob>.incomplete; LFS files are checked against their sha256.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, lstat, mkdir, open, readdir, readFile, rename, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { CheckpointError } from './checkpointError';
import { parseHfConfig } from './hfConfig';
import { HF_SIDE_FILES } from './hfModel';
import { SAFETENSORS_INDEX_FILE, SAFETENSORS_SINGLE_FILE } from './safetensors';

export const HF_HUB_URL = 'https://huggingface.co';
/** A Hub API call that takes longer than this counts as no network. */
const API_TIMEOUT_MS = 30_000;
/** A download with no byte for this long is abandoned (and resumes on the next pull). */
const IDLE_TIMEOUT_MS = 60_000;

export function hfHubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['HF_HUB_CACHE']) return env['HF_HUB_CACHE'];
  if (env['HUGGINGFACE_HUB_CACHE']) return env['HUGGINGFACE_HUB_CACHE'];
  if (env['HF_HOME']) return join(env['HF_HOME'], 'hub');
  return join(env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'huggingface', 'hub');
}

/** HF_TOKEN, else the token file `huggingface-cli login` writes (HF_TOKEN_PATH or $HF_HOME/token). */
export async function hfAccessToken(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (env['HF_TOKEN']) return env['HF_TOKEN'].trim();
  const path = env['HF_TOKEN_PATH'] ?? join(env['HF_HOME'] ?? join(env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'huggingface'), 'token');
  const token = await readFile(path, 'utf8').catch(() => '');
  return token.trim() || undefined;
}

const REPO_ID = /^(?:[A-Za-z0-9][\w.-]*\/)?[A-Za-z0-9][\w.-]*$/;

/** Checks "org/name" (or a bare legacy "name" such as "gpt2"). */
export function checkRepoId(repoId: string): string {
  if (!REPO_ID.test(repoId) || repoId.includes('..') || repoId.length > 96) {
    throw new CheckpointError(`"${repoId}" is not a Hugging Face model id (expected "org/name", e.g. "openai-community/gpt2")`);
  }
  return repoId;
}

export function repoFolderName(repoId: string): string {
  return ['models', ...checkRepoId(repoId).split('/')].join('--');
}

// ------------------------------------------------------------------------------------------ cache listing

export interface CachedSnapshot {
  commit: string;
  dir: string;
  /** Revisions (branches, tags) pointing at this commit. */
  refs: string[];
  /** Root-level file names present (links resolving to a blob, or plain files). */
  files: string[];
  /** Has config.json and safetensors weights: loadable. */
  complete: boolean;
  bytes: number;
}

export interface CachedModel {
  repoId: string;
  folder: string;
  snapshots: CachedSnapshot[];
}

async function snapshotInfo(dir: string, commit: string, refs: string[]): Promise<CachedSnapshot> {
  const files: string[] = [];
  let bytes = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const s = await stat(join(dir, name)).catch(() => null); // a dangling link (blob deleted) is not there
    if (s?.isFile()) {
      files.push(name);
      bytes += s.size;
    }
  }
  let complete = files.includes('config.json') && files.includes(SAFETENSORS_SINGLE_FILE);
  if (files.includes('config.json') && files.includes(SAFETENSORS_INDEX_FILE)) {
    try {
      const index = JSON.parse(await readFile(join(dir, SAFETENSORS_INDEX_FILE), 'utf8')) as { weight_map?: Record<string, string> };
      complete = Object.values(index.weight_map ?? {}).every((f) => files.includes(f));
    } catch {
      complete = false;
    }
  }
  return { commit, dir, refs, files: files.sort(), complete, bytes };
}

/** Every model in the cache with its snapshots; an absent cache is an empty list. */
export async function listCachedModels(cacheDir: string = hfHubCacheDir()): Promise<CachedModel[]> {
  const entries = await readdir(cacheDir).catch(() => [] as string[]);
  const models: CachedModel[] = [];
  for (const entry of entries.sort()) {
    if (!entry.startsWith('models--')) continue;
    const folder = join(cacheDir, entry);
    const refsByCommit = new Map<string, string[]>();
    const refsDir = join(folder, 'refs');
    const refFiles = await readdir(refsDir, { recursive: true }).catch(() => [] as string[]);
    for (const ref of refFiles) {
      const commit = (await readFile(join(refsDir, ref), 'utf8').catch(() => '')).trim();
      if (commit) refsByCommit.set(commit, [...(refsByCommit.get(commit) ?? []), ref.split(sep).join('/')]);
    }
    const snapshots: CachedSnapshot[] = [];
    for (const commit of await readdir(join(folder, 'snapshots')).catch(() => [] as string[])) {
      snapshots.push(await snapshotInfo(join(folder, 'snapshots', commit), commit, refsByCommit.get(commit) ?? []));
    }
    if (snapshots.length === 0) continue;
    models.push({ repoId: entry.slice('models--'.length).split('--').join('/'), folder, snapshots });
  }
  return models;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** One line per cached snapshot, for listings and error messages. */
export function describeCachedModels(models: readonly CachedModel[]): string[] {
  return models.flatMap((m) => m.snapshots.map((s) => {
    const refs = s.refs.length ? `${s.refs.join(', ')} -> ` : '';
    const state = s.complete ? '' : ', incomplete (run `ftlab pull` again when online)';
    return `${m.repoId}  (${refs}${s.commit.slice(0, 10)}, ${s.files.length} files, ${formatBytes(s.bytes)}${state})`;
  }));
}

/** The loadable snapshot folder of a cached repo at `revision` (a ref name or a commit), or null. */
export async function findCachedModel(repoId: string, options: { cacheDir?: string; revision?: string } = {}): Promise<string | null> {
  const folder = join(options.cacheDir ?? hfHubCacheDir(), repoFolderName(repoId));
  const revision = options.revision ?? 'main';
  const commit = /^[0-9a-f]{40}$/.test(revision)
    ? revision
    : (await readFile(join(folder, 'refs', revision), 'utf8').catch(() => '')).trim();
  if (!commit) return null;
  const snap = await snapshotInfo(join(folder, 'snapshots', commit), commit, []);
  return snap.complete ? snap.dir : null;
}

/** A model folder path, or a Hub id already in the cache -> the folder to load. */
export async function resolveModelDir(spec: string, options: { cacheDir?: string; revision?: string } = {}): Promise<string> {
  if (await stat(spec).then((s) => s.isDirectory(), () => false)) return spec;
  if (REPO_ID.test(spec)) {
    const cached = await findCachedModel(spec, options);
    if (cached) return cached;
    throw new CheckpointError(`"${spec}" is neither a folder nor a model in the cache (${options.cacheDir ?? hfHubCacheDir()}): run \`ftlab pull ${spec}\` first`, spec);
  }
  throw new CheckpointError(`model folder ${spec} does not exist`, spec);
}

// ------------------------------------------------------------------------------------------ pulling

export class HubOfflineError extends CheckpointError {
  constructor(message: string, readonly cached: readonly CachedModel[]) {
    super(message);
  }
}

export interface PullProgress {
  file: string;
  fileIndex: number;
  fileCount: number;
  /** Bytes of this file on disk so far (including a resumed part), and its size. */
  fileBytes: number;
  fileTotal: number;
  /** Bytes received over the network in this pull. */
  downloadedBytes: number;
  state: 'cached' | 'downloading' | 'done';
}

export interface PullOptions {
  revision?: string;
  cacheDir?: string;
  hubUrl?: string;
  accessToken?: string;
  /** Use only the cache (also when HF_HUB_OFFLINE=1). */
  offline?: boolean;
  fetch?: typeof fetch;
  onProgress?: (p: PullProgress) => void;
  /** Called with notes for the user (e.g. "offline: using the cached snapshot"). */
  onNote?: (message: string) => void;
}

export interface PullResult {
  repoId: string;
  commit: string;
  snapshotDir: string;
  files: string[];
  downloadedBytes: number;
  /** True when the Hub was not contacted (offline) and the cached snapshot was used. */
  fromCache: boolean;
}

const NETWORK_CODES = new Set([
  'ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENETUNREACH', 'EHOSTUNREACH', 'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'CERT_HAS_EXPIRED', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);

/** The network-level cause of a failed fetch (DNS, refused, timeout), or null for other errors. */
function networkFailure(error: unknown): string | null {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return (e as Error).message || code;
    if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) return 'the connection timed out';
  }
  return error instanceof TypeError && error.message === 'fetch failed' ? 'fetch failed' : null;
}

function httpStatus(error: unknown): number | null {
  const s = (error as { statusCode?: unknown }).statusCode;
  return typeof s === 'number' ? s : null;
}

function explainHubError(repoId: string, error: unknown, hasToken: boolean): Error {
  const status = httpStatus(error);
  if (status === 401 || status === 403 || status === 404) {
    const auth = hasToken
      ? 'your token (HF_TOKEN) has no access to it: for a gated model, accept its licence on its Hub page first'
      : 'if it is private or gated, accept its licence on the Hub and set HF_TOKEN to an access token';
    return new CheckpointError(`the Hub has no model "${repoId}" that this machine may read (HTTP ${status}): check the id; ${auth}`);
  }
  if (status !== null && status >= 500) {
    return new CheckpointError(`the Hub answered HTTP ${status} for ${repoId} (a server problem on its side): try again later, or use a cached model (--offline)`);
  }
  return error instanceof Error ? error : new Error(String(error));
}

function selectWeights(paths: ReadonlySet<string>, repoId: string): string[] {
  if (paths.has(SAFETENSORS_INDEX_FILE)) return [SAFETENSORS_INDEX_FILE];
  if (paths.has(SAFETENSORS_SINGLE_FILE)) return [SAFETENSORS_SINGLE_FILE];
  const pickle = [...paths].filter((p) => /^pytorch_model.*\.bin$/.test(p));
  const note = pickle.length
    ? ` It has PyTorch pickle weights (${pickle.slice(0, 3).join(', ')}), which Fine-Tune Lab does not load: look for a safetensors ` +
      'version of this model on the Hub (often a "refs/pr/N" revision, usable with --revision), or convert it once with Python: ' +
      'AutoModelForCausalLM.from_pretrained(...).save_pretrained(folder, safe_serialization=True).'
    : '';
  throw new CheckpointError(`${repoId} has no safetensors weights (${SAFETENSORS_SINGLE_FILE} or ${SAFETENSORS_INDEX_FILE}) at the top of the repository.${note}`);
}

interface RemoteFile {
  path: string;
  size: number;
  /** Blob name in the cache: LFS sha256, else the git oid. */
  etag: string;
  sha256: string | null;
}

async function pathExists(path: string): Promise<boolean> {
  return lstat(path).then(() => true, () => false);
}

/** snapshots/<commit>/<path> -> ../../blobs/<etag>; a copy where symlinks are not allowed (Windows without rights). */
async function linkIntoSnapshot(blob: string, pointer: string): Promise<void> {
  await mkdir(dirname(pointer), { recursive: true });
  if (await pathExists(pointer)) await unlink(pointer);
  try {
    await symlink(relative(dirname(pointer), blob), pointer);
  } catch {
    await copyFile(blob, pointer);
  }
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

interface FetchContext {
  repoId: string;
  commit: string;
  folder: string;
  hubUrl: string;
  token: string | undefined;
  fetch: typeof fetch;
  /** Bytes of the file on disk, bytes received for it in this pull. */
  report: (fileBytes: number, received: number, state: PullProgress['state']) => void;
}

/**
 * Appends the bytes of `url` from `start` on to `partial` (from 0 when the server ignores the range).
 * Aborts when no byte arrives for IDLE_TIMEOUT_MS, not after a fixed total time. Returns the bytes received.
 */
async function downloadToPartial(url: string, partial: string, start: number, f: RemoteFile, ctx: FetchContext): Promise<number> {
  const headers: Record<string, string> = {};
  if (start > 0) headers['Range'] = `bytes=${start}-`;
  if (ctx.token) headers['Authorization'] = `Bearer ${ctx.token}`;
  const abort = new AbortController();
  let idle = setTimeout(() => abort.abort(), IDLE_TIMEOUT_MS);
  try {
    const resp = await ctx.fetch(url, { headers, signal: abort.signal });
    if (resp.status === 200) start = 0;
    else if (resp.status !== 206 || start === 0) {
      await resp.body?.cancel();
      const hint = resp.status === 401 || resp.status === 403
        ? `: the model is gated or private. Accept its licence on ${ctx.hubUrl}/${ctx.repoId} and set HF_TOKEN to an access token of that account`
        : '';
      throw new CheckpointError(`downloading ${f.path} of ${ctx.repoId} failed: HTTP ${resp.status} from ${url}${hint}`);
    }
    const fh = await open(partial, start === 0 ? 'w' : 'a');
    let received = 0;
    try {
      ctx.report(start, 0, 'downloading');
      for await (const chunk of (resp.body ?? []) as unknown as AsyncIterable<Uint8Array>) {
        clearTimeout(idle);
        idle = setTimeout(() => abort.abort(), IDLE_TIMEOUT_MS);
        await fh.write(chunk);
        received += chunk.length;
        ctx.report(start + received, received, 'downloading');
      }
    } finally {
      await fh.close();
    }
    return received;
  } finally {
    clearTimeout(idle);
  }
}

/** Puts one file into blobs/ (resuming <blob>.incomplete), checks it, and links it into the snapshot. */
async function fetchFile(f: RemoteFile, ctx: FetchContext): Promise<void> {
  const pointer = join(ctx.folder, 'snapshots', ctx.commit, ...f.path.split('/'));
  const blob = join(ctx.folder, 'blobs', f.etag);
  const sizeOf = (p: string) => stat(p).then((s) => s.size, () => -1);
  if ((await sizeOf(pointer)) === f.size) return ctx.report(f.size, 0, 'cached');
  await mkdir(dirname(blob), { recursive: true });
  if ((await sizeOf(blob)) === f.size) {
    await linkIntoSnapshot(blob, pointer);
    return ctx.report(f.size, 0, 'cached');
  }
  const partial = `${blob}.incomplete`;
  let start = Math.max(0, await sizeOf(partial));
  if (start > f.size) start = 0;
  const url = `${ctx.hubUrl}/${ctx.repoId}/resolve/${ctx.commit}/${f.path.split('/').map(encodeURIComponent).join('/')}`;
  const received = start < f.size || (await sizeOf(partial)) < 0 ? await downloadToPartial(url, partial, start, f, ctx) : 0;
  const size = await sizeOf(partial);
  if (size !== f.size) {
    throw new CheckpointError(`downloading ${f.path} of ${ctx.repoId}: got ${size} of ${f.size} bytes (connection lost?). Run the same command again to resume.`);
  }
  if (f.sha256 && (await sha256OfFile(partial)) !== f.sha256) {
    await unlink(partial);
    throw new CheckpointError(`downloading ${f.path} of ${ctx.repoId}: the sha256 does not match the Hub's; the partial file was deleted, run the command again`);
  }
  await rename(partial, blob);
  await linkIntoSnapshot(blob, pointer);
  ctx.report(f.size, received, 'done');
}

function envOffline(env: NodeJS.ProcessEnv): boolean {
  return ['1', 'true', 'yes', 'on'].includes((env['HF_HUB_OFFLINE'] ?? '').toLowerCase());
}

/**
 * Downloads (or completes) a model's config, tokenizer files and safetensors weights into the HF cache.
 * Offline (no network, HF_HUB_OFFLINE=1 or `offline`), a complete cached snapshot is used; without one a
 * HubOfflineError lists the models that are cached.
 */
export async function pullModel(repoId: string, options: PullOptions = {}): Promise<PullResult> {
  checkRepoId(repoId);
  const cacheDir = options.cacheDir ?? hfHubCacheDir();
  const hubUrl = (options.hubUrl ?? process.env['HF_ENDPOINT'] ?? HF_HUB_URL).replace(/\/+$/, '');
  const revision = options.revision ?? 'main';
  const folder = join(cacheDir, repoFolderName(repoId));
  const doFetch = options.fetch ?? fetch;
  const token = options.accessToken;

  const useCache = async (why: string): Promise<PullResult> => {
    const snapshotDir = await findCachedModel(repoId, { cacheDir, revision });
    if (snapshotDir) {
      options.onNote?.(`${why}: using the cached snapshot ${snapshotDir} (not checked for updates)`);
      const snap = await snapshotInfo(snapshotDir, '', []);
      return { repoId, commit: snapshotDir.split(sep).pop()!, snapshotDir, files: snap.files, downloadedBytes: 0, fromCache: true };
    }
    const cached = await listCachedModels(cacheDir);
    const lines = describeCachedModels(cached);
    const listing = lines.length
      ? `Models in the cache (${cacheDir}):\n${lines.map((l) => `  ${l}`).join('\n')}\nUse one of these, or give the path of a model folder.`
      : `The cache (${cacheDir}) holds no models. Pull on a machine with network access and copy the cache folder ` +
        '(or a model folder) here; set HF_HUB_CACHE or HF_HOME if it lives elsewhere.';
    throw new HubOfflineError(`${why}, and ${repoId}${revision === 'main' ? '' : `@${revision}`} is not in the cache.\n${listing}`, cached);
  };

  if (options.offline || envOffline(process.env)) return useCache('offline mode (HF_HUB_OFFLINE or --offline)');

  const hub = await import('@huggingface/hub');
  const apiFetch: typeof fetch = (input, init) => doFetch(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(API_TIMEOUT_MS) });
  const common = { hubUrl, fetch: apiFetch, ...(token ? { accessToken: token } : {}) };
  let commit: string;
  let remote: RemoteFile[];
  try {
    const info = await hub.modelInfo({ ...common, name: repoId, revision, additionalFields: ['sha'] });
    if (typeof info.sha !== 'string' || !/^[0-9a-f]{40}$/.test(info.sha)) throw new CheckpointError(`the Hub answered without a commit for ${repoId}@${revision}`);
    commit = info.sha;
    remote = [];
    for await (const e of hub.listFiles({ ...common, repo: { type: 'model', name: repoId }, revision: commit, recursive: false })) {
      if (e.type !== 'file' || e.path.includes('/')) continue;
      const sha256 = e.lfs?.oid ?? null;
      remote.push({ path: e.path, size: e.lfs?.size ?? e.size, etag: sha256 ?? e.oid ?? '', sha256 });
    }
  } catch (error) {
    const down = networkFailure(error);
    if (down) return useCache(`cannot reach the Hugging Face Hub at ${hubUrl} (${down}): this machine looks offline`);
    throw explainHubError(repoId, error, token !== undefined);
  }

  const byPath = new Map(remote.map((r) => [r.path, r]));
  if (!byPath.has('config.json')) throw new CheckpointError(`${repoId} is not a transformers model repository (no config.json at its top level)`);
  const weights = selectWeights(new Set(byPath.keys()), repoId);

  let downloadedBytes = 0;
  const snapshotDir = join(folder, 'snapshots', commit);
  const fetchOne = async (f: RemoteFile, index: number, count: number, quiet = false) => {
    if (!f.etag) throw new CheckpointError(`the Hub listed ${f.path} of ${repoId} without an id (oid): cannot cache it`);
    let last = 0;
    await fetchFile(f, {
      repoId, commit, folder, hubUrl, token, fetch: doFetch,
      report: (fileBytes, received, state) => {
        downloadedBytes += received - last;
        last = received;
        if (!quiet) options.onProgress?.({ file: f.path, fileIndex: index, fileCount: count, fileBytes, fileTotal: f.size, downloadedBytes, state });
      },
    });
  };
  try {
    // config.json (and a shard index) first: an unsupported architecture is refused before gigabytes of
    // weights come down, and the index says which shards to fetch. They show as cached in the listing below.
    await fetchOne(byPath.get('config.json')!, 0, 1, true);
    parseHfConfig(JSON.parse(await readFile(join(snapshotDir, 'config.json'), 'utf8')), `${repoId} config.json`);
    let shards: string[] = [];
    if (weights[0] === SAFETENSORS_INDEX_FILE) {
      await fetchOne(byPath.get(SAFETENSORS_INDEX_FILE)!, 0, 1, true);
      const index = JSON.parse(await readFile(join(snapshotDir, SAFETENSORS_INDEX_FILE), 'utf8')) as { weight_map?: Record<string, string> };
      shards = [...new Set(Object.values(index.weight_map ?? {}))];
      const absent = shards.filter((n) => !byPath.has(n));
      if (absent.length) throw new CheckpointError(`${repoId}: ${SAFETENSORS_INDEX_FILE} lists ${absent.join(', ')}, not in the repository`);
    }
    const files = [...new Set(['config.json', ...weights, ...HF_SIDE_FILES, ...shards])].flatMap((p) => byPath.get(p) ?? []);
    for (const [i, f] of files.entries()) await fetchOne(f, i, files.length);
    if (revision !== commit) {
      await mkdir(join(folder, 'refs', ...revision.split('/').slice(0, -1)), { recursive: true });
      await writeFile(join(folder, 'refs', ...revision.split('/')), commit);
    }
    return { repoId, commit, snapshotDir, files: files.map((f) => f.path), downloadedBytes, fromCache: false };
  } catch (error) {
    const down = networkFailure(error);
    if (down) {
      throw new CheckpointError(`lost the connection to the Hub while downloading ${repoId} (${down}). Run the same command again: finished files are kept and the interrupted one resumes.`);
    }
    throw error;
  }
}
