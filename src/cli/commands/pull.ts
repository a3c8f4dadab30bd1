// `ftlab pull <repo-id>`: a model's config, tokenizer and safetensors weights from the Hugging Face Hub
// into the standard HF cache. Progress goes to stderr; the snapshot folder is printed on stdout.
import { UsageError, type CliCommand } from '../command';
import {
  CheckpointError, checkRepoId, describeCachedModels, hfAccessToken, hfHubCacheDir, listCachedModels, pullModel, type PullProgress,
} from '../../engine';

const usage = `Usage: ftlab pull <repo-id> [--revision <rev>] [--cache-dir <dir>] [--offline]
       ftlab pull --list [--cache-dir <dir>]

Downloads config.json, the tokenizer files and the safetensors weights of a model from the
Hugging Face Hub (e.g. openai-community/gpt2, HuggingFaceTB/SmolLM2-135M) into the Hugging Face
cache, shared with Python tools. An interrupted download resumes when run again. Prints the
model's folder on stdout.

  --revision <rev>   branch, tag or commit (default: main)
  --cache-dir <dir>  cache folder (default: HF_HUB_CACHE, or HF_HOME/hub, or ~/.cache/huggingface/hub)
  --offline          do not contact the Hub; use the cached copy (also HF_HUB_OFFLINE=1)
  --list             list the models in the cache
Private and gated models need an access token in HF_TOKEN (or from \`huggingface-cli login\`).`;

function parseArgs(argv: readonly string[]) {
  const out: { repoId?: string; revision?: string; cacheDir?: string; offline: boolean; list: boolean } = { offline: false, list: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    if (arg === '--revision') out.revision = value();
    else if (arg === '--cache-dir') out.cacheDir = value();
    else if (arg === '--offline') out.offline = true;
    else if (arg === '--list') out.list = true;
    else if (arg.startsWith('-')) throw new UsageError(`unknown option '${arg}'`);
    else if (out.repoId === undefined) out.repoId = arg;
    else throw new UsageError(`unexpected argument '${arg}'`);
  }
  return out;
}

function mb(n: number): string {
  return `${(n / 1e6).toFixed(1)} MB`;
}

/** Progress on stderr: one rewritten line on a terminal, a line per finished file otherwise. */
function progressPrinter(stream: NodeJS.WriteStream) {
  const tty = stream.isTTY === true;
  const started = Date.now();
  let lastDraw = 0;
  return (p: PullProgress) => {
    const tag = `[${p.fileIndex + 1}/${p.fileCount}] ${p.file}`;
    if (p.state === 'downloading') {
      const now = Date.now();
      if (!tty || now - lastDraw < 100) return;
      lastDraw = now;
      const pct = p.fileTotal ? ((100 * p.fileBytes) / p.fileTotal).toFixed(0) : '100';
      const rate = p.downloadedBytes / Math.max(0.001, (now - started) / 1000);
      stream.write(`\r\x1b[K${tag}  ${mb(p.fileBytes)} / ${mb(p.fileTotal)}  ${pct}%  ${mb(rate)}/s`);
      return;
    }
    stream.write(`${tty ? '\r\x1b[K' : ''}${tag}  ${mb(p.fileTotal)}  ${p.state === 'cached' ? 'already in the cache' : 'downloaded'}\n`);
  };
}

export const pull: CliCommand = {
  name: 'pull',
  summary: 'Download a model from the Hugging Face Hub into the local cache',
  usage,
  async run(argv) {
    const args = parseArgs(argv);
    const cacheDir = args.cacheDir ?? hfHubCacheDir();
    if (args.list) {
      if (args.repoId !== undefined) throw new UsageError('--list takes no repo id');
      const lines = describeCachedModels(await listCachedModels(cacheDir));
      console.error(lines.length ? `Models in ${cacheDir}:` : `No models in ${cacheDir}.`);
      for (const line of lines) console.log(line);
      return 0;
    }
    if (args.repoId === undefined) throw new UsageError('which model? Give a Hub id such as openai-community/gpt2');
    try {
      checkRepoId(args.repoId);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    try {
      const result = await pullModel(args.repoId, {
        cacheDir,
        offline: args.offline,
        accessToken: await hfAccessToken(),
        onProgress: progressPrinter(process.stderr),
        onNote: (note) => console.error(note),
        ...(args.revision !== undefined ? { revision: args.revision } : {}),
      });
      if (!result.fromCache) {
        console.error(`${result.repoId} @ ${result.commit.slice(0, 10)}: ${result.files.length} files, ${mb(result.downloadedBytes)} downloaded`);
      }
      console.log(result.snapshotDir);
      return 0;
    } catch (error) {
      if (error instanceof CheckpointError) {
        console.error(`ftlab pull: ${error.message}`);
        return 1;
      }
      throw error;
    }
  },
};
